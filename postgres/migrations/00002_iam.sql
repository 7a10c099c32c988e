-- +goose Up

-- IAM attributes of users. password_set_at is NULL for a password that was
-- not set through the IAM API (the bootstrap root's). credential_generation
-- grows with every change that must end the user's tokens.
ALTER TABLE users ADD COLUMN description text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN password_reset_required boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN password_set_at timestamptz;
ALTER TABLE users ADD COLUMN credential_generation bigint NOT NULL DEFAULT 0;

CREATE TABLE iam_groups (
    id          text        PRIMARY KEY,
    account_id  text        NOT NULL REFERENCES accounts (id),
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE group_members (
    group_id  text        NOT NULL REFERENCES iam_groups (id) ON DELETE CASCADE,
    user_id   text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at  timestamptz NOT NULL,
    PRIMARY KEY (group_id, user_id)
);

CREATE INDEX group_members_user ON group_members (user_id);

-- policies holds custom policies (account_id set) and system policies
-- (account_id empty, type 'system'). default_version and next_version are
-- the numbers behind version ids "v1", "v2", …; next_version only grows,
-- so a deleted version's id is never reused.
CREATE TABLE policies (
    id              text        PRIMARY KEY,
    account_id      text        NOT NULL,
    type            text        NOT NULL CHECK (type IN ('custom', 'system')),
    name            text        NOT NULL,
    path            text        NOT NULL DEFAULT '',
    description     text        NOT NULL DEFAULT '',
    default_version bigint      NOT NULL,
    next_version    bigint      NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE policy_versions (
    policy_id   text        NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    version     bigint      NOT NULL,
    document    text        NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (policy_id, version)
);

-- Attachments keep a policy from being deleted (no cascade from policies)
-- but go away with their user or group.
CREATE TABLE user_policies (
    user_id     text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    policy_id   text        NOT NULL REFERENCES policies (id),
    attached_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, policy_id)
);

CREATE INDEX user_policies_policy ON user_policies (policy_id);

CREATE TABLE group_policies (
    group_id    text        NOT NULL REFERENCES iam_groups (id) ON DELETE CASCADE,
    policy_id   text        NOT NULL REFERENCES policies (id),
    attached_at timestamptz NOT NULL,
    PRIMARY KEY (group_id, policy_id)
);

CREATE INDEX group_policies_policy ON group_policies (policy_id);

-- auth_failures counts consecutive failed authentications per credential
-- (an access key, a user's password), shared by every replica.
-- locked_until is NULL while the credential is not locked.
CREATE TABLE auth_failures (
    subject      text        PRIMARY KEY,
    failures     integer     NOT NULL,
    locked_until timestamptz
);

-- +goose Down
DROP TABLE auth_failures;
DROP TABLE group_policies;
DROP TABLE user_policies;
DROP TABLE policy_versions;
DROP TABLE policies;
DROP TABLE group_members;
DROP TABLE iam_groups;
ALTER TABLE users DROP COLUMN credential_generation;
ALTER TABLE users DROP COLUMN password_set_at;
ALTER TABLE users DROP COLUMN password_reset_required;
ALTER TABLE users DROP COLUMN description;

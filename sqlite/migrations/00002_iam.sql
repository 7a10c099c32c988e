-- +goose Up

-- IAM attributes of users. password_set_at is 0 for a password that was not
-- set through the IAM API (the bootstrap root's). credential_generation
-- grows with every change that must end the user's tokens.
ALTER TABLE users ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN password_reset_required INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_set_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN credential_generation INTEGER NOT NULL DEFAULT 0;

CREATE TABLE iam_groups (
    id          TEXT    PRIMARY KEY,
    account_id  TEXT    NOT NULL REFERENCES accounts (id),
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE group_members (
    group_id  TEXT    NOT NULL REFERENCES iam_groups (id) ON DELETE CASCADE,
    user_id   TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at  INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;

CREATE INDEX group_members_user ON group_members (user_id);

-- policies holds custom policies (account_id set) and system policies
-- (account_id empty, type 'system'). default_version and next_version are
-- the numbers behind version ids "v1", "v2", …; next_version only grows,
-- so a deleted version's id is never reused.
CREATE TABLE policies (
    id              TEXT    PRIMARY KEY,
    account_id      TEXT    NOT NULL,
    type            TEXT    NOT NULL CHECK (type IN ('custom', 'system')),
    name            TEXT    NOT NULL,
    path            TEXT    NOT NULL DEFAULT '',
    description     TEXT    NOT NULL DEFAULT '',
    default_version INTEGER NOT NULL,
    next_version    INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE policy_versions (
    policy_id   TEXT    NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    document    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (policy_id, version)
) WITHOUT ROWID;

-- Attachments keep a policy from being deleted (no cascade from policies)
-- but go away with their user or group.
CREATE TABLE user_policies (
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    policy_id   TEXT    NOT NULL REFERENCES policies (id),
    attached_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, policy_id)
) WITHOUT ROWID;

CREATE INDEX user_policies_policy ON user_policies (policy_id);

CREATE TABLE group_policies (
    group_id    TEXT    NOT NULL REFERENCES iam_groups (id) ON DELETE CASCADE,
    policy_id   TEXT    NOT NULL REFERENCES policies (id),
    attached_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, policy_id)
) WITHOUT ROWID;

CREATE INDEX group_policies_policy ON group_policies (policy_id);

-- auth_failures counts consecutive failed authentications per credential
-- (an access key, a user's password), shared by every replica.
CREATE TABLE auth_failures (
    subject      TEXT    PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

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

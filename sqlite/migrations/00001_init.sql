-- +goose Up

-- Times are INTEGER microseconds since the Unix epoch, UTC, so that
-- comparisons are numeric and independent of how a client spelled the time.

-- event_projects numbers the projects that have events. The events table and
-- its indexes store the small number instead of the 32-character project id,
-- which makes every index entry about 30 bytes shorter.
CREATE TABLE event_projects (
    project_no  INTEGER PRIMARY KEY,
    project_id  TEXT    NOT NULL UNIQUE
);

CREATE TABLE events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    project_no      INTEGER NOT NULL REFERENCES event_projects (project_no),
    event_id        TEXT    NOT NULL,
    username        TEXT    NOT NULL DEFAULT '',
    workspace_id    TEXT    NOT NULL DEFAULT '',
    event_trace_id  TEXT    NOT NULL DEFAULT '',
    event_type      TEXT    NOT NULL DEFAULT '',
    event_time      INTEGER NOT NULL,
    resource_type   TEXT    NOT NULL DEFAULT '',
    resource_id     TEXT    NOT NULL DEFAULT '',
    resource_name   TEXT    NOT NULL DEFAULT '',
    client_type     TEXT    NOT NULL DEFAULT '',
    client_ip       TEXT    NOT NULL DEFAULT '',
    client_mac      TEXT    NOT NULL DEFAULT '',
    client_version  TEXT    NOT NULL DEFAULT '',
    source_ip       TEXT    NOT NULL DEFAULT '',
    is_success      INTEGER,
    error_code      TEXT    NOT NULL DEFAULT '',
    error_msg       TEXT    NOT NULL DEFAULT '',
    action_type     TEXT    NOT NULL DEFAULT '',
    domain          TEXT    NOT NULL DEFAULT '',
    api_url         TEXT    NOT NULL DEFAULT '',
    received_at     INTEGER NOT NULL,
    UNIQUE (project_no, event_id)
);

-- seq is the rowid, so every index below ends in seq implicitly and returns
-- rows already in (event_time, seq) order. FindEvents names these indexes
-- in INDEXED BY clauses.
CREATE INDEX events_time          ON events (project_no, event_time);
CREATE INDEX events_username      ON events (project_no, username, event_time);
CREATE INDEX events_event_type    ON events (project_no, event_type, event_time);
CREATE INDEX events_resource_id   ON events (project_no, resource_id, event_time);
CREATE INDEX events_resource_name ON events (project_no, resource_name, event_time);
CREATE INDEX events_domain        ON events (project_no, domain, event_time);

-- event_counts holds the number of stored events per project, hour, event
-- type and domain, so that counting a long time range reads a few hundred
-- rows instead of every event in it. CreateEvents keeps it exact.
-- NOTE: nothing deletes events yet; code that does must subtract them here.
CREATE TABLE event_counts (
    project_no  INTEGER NOT NULL,
    hour        INTEGER NOT NULL, -- event_time / 3600000000, rounded down
    event_type  TEXT    NOT NULL,
    domain      TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (project_no, hour, event_type, domain)
) WITHOUT ROWID;

CREATE TABLE lts_configs (
    project_id    TEXT    PRIMARY KEY,
    enabled       INTEGER NOT NULL,
    log_group_id  TEXT    NOT NULL DEFAULT '',
    log_stream_id TEXT    NOT NULL DEFAULT '',
    updated_at    INTEGER NOT NULL
);

-- deliveries is the outbox. due_at is the earliest time a worker may lease
-- the row: leasing moves it to lease_until, so a lease that expires makes
-- the row due again without a separate check.
CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  TEXT    NOT NULL,
    group_id    TEXT    NOT NULL,
    stream_id   TEXT    NOT NULL,
    event_seq   INTEGER NOT NULL REFERENCES events (seq),
    attempts    INTEGER NOT NULL DEFAULT 0,
    queued_at   INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    last_error  TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX deliveries_due     ON deliveries (due_at);
CREATE INDEX deliveries_target  ON deliveries (project_id, group_id, stream_id, due_at);
CREATE INDEX deliveries_project ON deliveries (project_id, queued_at);

CREATE TABLE dead_letters (
    id          INTEGER PRIMARY KEY, -- the id the row had in deliveries
    project_id  TEXT    NOT NULL,
    group_id    TEXT    NOT NULL,
    stream_id   TEXT    NOT NULL,
    event_seq   INTEGER NOT NULL REFERENCES events (seq),
    attempts    INTEGER NOT NULL,
    queued_at   INTEGER NOT NULL,
    last_error  TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    dead_at     INTEGER NOT NULL
);

CREATE INDEX dead_letters_project ON dead_letters (project_id, dead_at);

CREATE TABLE delivery_counters (
    project_id    TEXT    PRIMARY KEY,
    delivered     INTEGER NOT NULL DEFAULT 0,
    failed        INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT    NOT NULL DEFAULT '',
    last_error_at INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE log_groups (
    id          TEXT    PRIMARY KEY,
    project_id  TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    alias       TEXT    NOT NULL DEFAULT '',
    ttl_days    INTEGER NOT NULL,
    tags        TEXT    NOT NULL DEFAULT '{}', -- JSON object
    created_at  INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE log_streams (
    id          TEXT    PRIMARY KEY,
    project_id  TEXT    NOT NULL,
    group_id    TEXT    NOT NULL REFERENCES log_groups (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    alias       TEXT    NOT NULL DEFAULT '',
    ttl_days    INTEGER NOT NULL,
    tags        TEXT    NOT NULL DEFAULT '{}', -- JSON object
    created_at  INTEGER NOT NULL,
    UNIQUE (group_id, name)
);

CREATE TABLE log_lines (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id   TEXT    NOT NULL REFERENCES log_streams (id) ON DELETE CASCADE,
    time_ns     INTEGER NOT NULL, -- nanoseconds since the Unix epoch, UTC
    content     TEXT    NOT NULL,
    labels      TEXT    NOT NULL DEFAULT '{}' -- JSON object of strings
);

CREATE INDEX log_lines_time ON log_lines (stream_id, time_ns);

CREATE TABLE accounts (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE projects (
    id          TEXT    PRIMARY KEY,
    account_id  TEXT    NOT NULL REFERENCES accounts (id),
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE users (
    id            TEXT    PRIMARY KEY,
    account_id    TEXT    NOT NULL REFERENCES accounts (id),
    name          TEXT    NOT NULL,
    root          INTEGER NOT NULL,
    password_hash TEXT    NOT NULL DEFAULT '',
    enabled       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

-- secret and security_token are sealed with the server's key; the database
-- never holds them in plaintext.
CREATE TABLE access_keys (
    id             TEXT    PRIMARY KEY,
    user_id        TEXT    NOT NULL REFERENCES users (id),
    account_id     TEXT    NOT NULL REFERENCES accounts (id),
    secret         BLOB    NOT NULL,
    security_token BLOB,
    enabled        INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);

CREATE INDEX access_keys_user ON access_keys (user_id);

-- +goose Down
DROP TABLE access_keys;
DROP TABLE users;
DROP TABLE projects;
DROP TABLE accounts;
DROP TABLE log_lines;
DROP TABLE log_streams;
DROP TABLE log_groups;
DROP TABLE delivery_counters;
DROP TABLE dead_letters;
DROP TABLE deliveries;
DROP TABLE lts_configs;
DROP TABLE event_counts;
DROP TABLE events;
DROP TABLE event_projects;

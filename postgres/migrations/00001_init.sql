-- +goose Up

-- Times are timestamptz, which PostgreSQL stores as UTC microseconds.
--
-- Text columns that indexes of the event and outbox tables hold use the "C"
-- collation. PostgreSQL 15 compares text of any other collation, even
-- C.UTF-8, through the C library's strcoll, which makes every index insert
-- and lookup slower. Equality is byte equality under any deterministic
-- collation, so no filter changes its result.

-- event_projects numbers the projects that have events. The event tables
-- and their indexes hold the small number instead of the 32-character
-- project id, which shortens every index entry and lets index comparisons
-- start with a fixed-width column. A number never changes once assigned.
CREATE TABLE event_projects (
    project_no  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id  text    NOT NULL UNIQUE
);

-- events is partitioned by month of event_time. The store creates a month's
-- partition before it inserts the first event of that month, for months
-- near the present; every other event lands in events_default, so no event
-- is ever rejected. Retention drops whole monthly partitions.
--
-- A unique index on a partitioned table must contain the partition key, so
-- (project_no, event_id) cannot be unique here. event_ids below enforces it
-- instead.
CREATE TABLE events (
    seq             bigint      GENERATED ALWAYS AS IDENTITY, -- across all partitions
    project_no      integer     NOT NULL,
    event_id        text COLLATE "C" NOT NULL,
    username        text COLLATE "C" NOT NULL DEFAULT '',
    workspace_id    text        NOT NULL DEFAULT '',
    event_trace_id  text        NOT NULL DEFAULT '',
    event_type      text COLLATE "C" NOT NULL DEFAULT '',
    event_time      timestamptz NOT NULL,
    resource_type   text        NOT NULL DEFAULT '',
    resource_id     text COLLATE "C" NOT NULL DEFAULT '',
    resource_name   text COLLATE "C" NOT NULL DEFAULT '',
    client_type     text        NOT NULL DEFAULT '',
    client_ip       text        NOT NULL DEFAULT '',
    client_mac      text        NOT NULL DEFAULT '',
    client_version  text        NOT NULL DEFAULT '',
    source_ip       text        NOT NULL DEFAULT '',
    is_success      boolean,
    error_code      text        NOT NULL DEFAULT '',
    error_msg       text        NOT NULL DEFAULT '',
    action_type     text        NOT NULL DEFAULT '',
    domain          text COLLATE "C" NOT NULL DEFAULT '',
    api_url         text        NOT NULL DEFAULT '',
    received_at     timestamptz NOT NULL
) PARTITION BY RANGE (event_time);

CREATE TABLE events_default PARTITION OF events DEFAULT;

-- One index per list filter, each ending in the list order, so that a page
-- is read in order without sorting. Every partition gets them. The filter
-- indexes also carry the event type and domain, the filters that most often
-- come with another one, so that counting and paging such a combination
-- reads only the index: on 10,000,000 events, counting one user's events of
-- one type read the table for each of the user's events otherwise.
CREATE INDEX events_time          ON events (project_no, event_time DESC, seq DESC);
CREATE INDEX events_username      ON events (project_no, username, event_time DESC, seq DESC)
    INCLUDE (event_type, domain);
CREATE INDEX events_event_type    ON events (project_no, event_type, event_time DESC, seq DESC)
    INCLUDE (domain);
CREATE INDEX events_resource_id   ON events (project_no, resource_id, event_time DESC, seq DESC)
    INCLUDE (event_type, domain);
CREATE INDEX events_resource_name ON events (project_no, resource_name, event_time DESC, seq DESC)
    INCLUDE (event_type, domain);
CREATE INDEX events_domain        ON events (project_no, domain, event_time DESC, seq DESC)
    INCLUDE (event_type);

-- event_ids makes (project_no, event_id) unique across all partitions.
-- CreateEvents inserts the batch's ids here with ON CONFLICT DO NOTHING and
-- stores only the events whose id it inserted, in the same statement. A
-- concurrent transaction that inserts the same id waits on the primary key
-- until the first one commits or aborts, so two replicas never both store
-- an event. Retention deletes the ids of the events it drops.
CREATE TABLE event_ids (
    project_no  integer          NOT NULL,
    event_id    text COLLATE "C" NOT NULL,
    PRIMARY KEY (project_no, event_id)
);

-- event_counts holds the number of stored events per project, hour, event
-- type and domain, so that counting a long time range reads a few hundred
-- rows instead of every event in it. CreateEvents and retention keep it
-- exact. hour is the start of the hour in UTC.
CREATE TABLE event_counts (
    project_no  integer          NOT NULL,
    hour        timestamptz      NOT NULL,
    event_type  text COLLATE "C" NOT NULL,
    domain      text COLLATE "C" NOT NULL,
    n           bigint      NOT NULL,
    PRIMARY KEY (project_no, hour, event_type, domain)
);

CREATE TABLE lts_configs (
    project_id    text        PRIMARY KEY,
    enabled       boolean     NOT NULL,
    log_group_id  text        NOT NULL DEFAULT '',
    log_stream_id text        NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL
);

-- deliveries is the outbox that every replica leases from. due_at is the
-- earliest time a worker may lease the row: leasing moves it to
-- lease_until, so a lease that expires makes the row due again without a
-- separate check. event is a copy of the stored event as to_json wrote it,
-- so that delivery does not depend on the event's partition still existing.
-- It is json, not jsonb, because only the worker reads it back, and
-- writing text skips jsonb's parsing and key sorting on every intake.
CREATE TABLE deliveries (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id  text COLLATE "C" NOT NULL,
    group_id    text COLLATE "C" NOT NULL,
    stream_id   text COLLATE "C" NOT NULL,
    event       json        NOT NULL,
    attempts    integer     NOT NULL DEFAULT 0,
    queued_at   timestamptz NOT NULL,
    due_at      timestamptz NOT NULL,
    lease_owner text,
    lease_until timestamptz,
    last_error  text        NOT NULL DEFAULT ''
);

CREATE INDEX deliveries_due     ON deliveries (due_at, id);
CREATE INDEX deliveries_target  ON deliveries (project_id, group_id, stream_id, due_at, id);
CREATE INDEX deliveries_project ON deliveries (project_id, queued_at);

CREATE TABLE dead_letters (
    id          bigint      PRIMARY KEY, -- the id the row had in deliveries
    project_id  text COLLATE "C" NOT NULL,
    group_id    text COLLATE "C" NOT NULL,
    stream_id   text COLLATE "C" NOT NULL,
    event       json        NOT NULL,
    attempts    integer     NOT NULL,
    queued_at   timestamptz NOT NULL,
    last_error  text        NOT NULL,
    reason      text        NOT NULL,
    dead_at     timestamptz NOT NULL
);

CREATE INDEX dead_letters_project ON dead_letters (project_id, dead_at);

CREATE TABLE delivery_counters (
    project_id    text        PRIMARY KEY,
    delivered     bigint      NOT NULL DEFAULT 0,
    failed        bigint      NOT NULL DEFAULT 0,
    last_error    text        NOT NULL DEFAULT '',
    last_error_at timestamptz
);

CREATE TABLE log_groups (
    id          text        PRIMARY KEY,
    project_id  text        NOT NULL,
    name        text        NOT NULL,
    alias       text        NOT NULL DEFAULT '',
    ttl_days    integer     NOT NULL,
    tags        jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    CONSTRAINT log_groups_name_key UNIQUE (project_id, name)
);

CREATE TABLE log_streams (
    id          text        PRIMARY KEY,
    project_id  text        NOT NULL,
    group_id    text        NOT NULL REFERENCES log_groups (id) ON DELETE CASCADE,
    name        text        NOT NULL,
    alias       text        NOT NULL DEFAULT '',
    ttl_days    integer     NOT NULL,
    tags        jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    CONSTRAINT log_streams_name_key UNIQUE (group_id, name)
);

CREATE TABLE log_lines (
    seq         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id   text        NOT NULL REFERENCES log_streams (id) ON DELETE CASCADE,
    time_ns     bigint      NOT NULL, -- nanoseconds since the Unix epoch, UTC
    content     text        NOT NULL,
    labels      jsonb       NOT NULL DEFAULT '{}' -- object of strings
);

CREATE INDEX log_lines_time ON log_lines (stream_id, time_ns, seq);

CREATE TABLE accounts (
    id          text        PRIMARY KEY,
    name        text        NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL
);

CREATE TABLE projects (
    id          text        PRIMARY KEY,
    account_id  text        NOT NULL REFERENCES accounts (id),
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE users (
    id            text        PRIMARY KEY,
    account_id    text        NOT NULL REFERENCES accounts (id),
    name          text        NOT NULL,
    root          boolean     NOT NULL,
    password_hash text        NOT NULL DEFAULT '',
    enabled       boolean     NOT NULL,
    created_at    timestamptz NOT NULL,
    UNIQUE (account_id, name)
);

-- secret and security_token are sealed with the server's key; the database
-- never holds them in plaintext.
CREATE TABLE access_keys (
    id             text        PRIMARY KEY,
    user_id        text        NOT NULL REFERENCES users (id),
    account_id     text        NOT NULL REFERENCES accounts (id),
    secret         bytea       NOT NULL,
    security_token bytea,
    enabled        boolean     NOT NULL,
    expires_at     timestamptz,
    created_at     timestamptz NOT NULL
);

CREATE INDEX access_keys_user ON access_keys (user_id);

-- sealing_check holds a constant sealed with the key of the first process
-- that opened the database. Every replica must seal with the same key, or
-- none could read the secrets that another stored, so Open checks that its
-- key opens this row.
CREATE TABLE sealing_check (
    id      integer PRIMARY KEY CHECK (id = 1),
    sealed  bytea   NOT NULL
);

-- +goose Down
DROP TABLE sealing_check;
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
DROP TABLE event_ids;
DROP TABLE events;
DROP TABLE event_projects;

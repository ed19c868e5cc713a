-- Driftwatch schema, version 1.
--
-- Plain PostgreSQL 13 or later, no extensions (PL/pgSQL is built into every database).
-- Times are timestamptz; window lengths and trailing spans are bigint milliseconds.
-- Time-indexed tables are partitioned by month (UTC) on their window start, so retention
-- drops whole partitions; partitions are created on demand by drift_ensure_partitions().
-- Applied once, in one transaction, by the Migrator (see docs/operations.md, "Database").

-- One stream per (project, model, model version, segment): the unit rollups and metrics
-- are kept for. model_version is '' when the profiles carry none; segment is the Segment's
-- description (`k=v,k=v`, sorted by key, or `*` for the whole traffic) and tags the same as
-- a JSON object.
CREATE TABLE streams (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project       text NOT NULL,
    model         text NOT NULL,
    model_version text NOT NULL DEFAULT '',
    segment       text NOT NULL DEFAULT '*',
    tags          jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT streams_key UNIQUE (project, model, model_version, segment)
);
-- streams_key also serves "models of a project" and "streams of a model".

-- One row per accepted upload, exactly as received. An upload is identified by the profile's
-- upload id or by the client's Idempotency-Key; both are unique per project and window (a
-- unique index on a partitioned table must contain the partition key, and a retried upload
-- carries the same window). rolled_up_at is set in the transaction that merges the profile
-- into its rollups; the partial index keeps the pending ones cheap to find. rollup_error says
-- why a profile could not be merged (it is then set aside rather than retried forever).
CREATE SEQUENCE raw_profiles_id_seq AS bigint;
CREATE TABLE raw_profiles (
    id               bigint NOT NULL DEFAULT nextval('raw_profiles_id_seq'),
    project          text NOT NULL,
    stream_id        bigint NOT NULL REFERENCES streams (id),
    upload_id        uuid NOT NULL,
    idempotency_key  text,
    window_start     timestamptz NOT NULL,
    window_length_ms bigint NOT NULL CHECK (window_length_ms > 0),
    received_at      timestamptz NOT NULL DEFAULT now(),
    format           text NOT NULL CHECK (format IN ('native', 'whylogs')),
    row_count        bigint NOT NULL,
    bytes            bytea NOT NULL,
    rolled_up_at     timestamptz,
    rollup_error     text,
    PRIMARY KEY (id, window_start),
    CONSTRAINT raw_profiles_upload UNIQUE (project, upload_id, window_start)
) PARTITION BY RANGE (window_start);
ALTER SEQUENCE raw_profiles_id_seq OWNED BY raw_profiles.id;
CREATE UNIQUE INDEX raw_profiles_idempotency_key ON raw_profiles (project, idempotency_key, window_start)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX raw_profiles_pending ON raw_profiles (id) WHERE rolled_up_at IS NULL;
CREATE INDEX raw_profiles_stream_window ON raw_profiles (stream_id, window_start);

-- Merged profiles per stream, granularity and window (a UTC hour or day), in the native
-- format. raw_count is the number of raw profiles merged in; updated_at tells the evaluator
-- which windows changed since its last pass (late data). Partitioned by granularity first so
-- that each granularity keeps its own retention, then by month.
CREATE TABLE rollups (
    stream_id    bigint NOT NULL REFERENCES streams (id),
    granularity  text NOT NULL CHECK (granularity IN ('hour', 'day')),
    window_start timestamptz NOT NULL,
    profile      bytea NOT NULL,
    raw_count    integer NOT NULL CHECK (raw_count > 0),
    row_count    bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream_id, granularity, window_start)
) PARTITION BY LIST (granularity);
CREATE TABLE rollups_hour PARTITION OF rollups FOR VALUES IN ('hour') PARTITION BY RANGE (window_start);
CREATE TABLE rollups_day PARTITION OF rollups FOR VALUES IN ('day') PARTITION BY RANGE (window_start);
CREATE INDEX rollups_updated ON rollups (updated_at);

-- Which raw profile went into which rollup: one row per raw profile and granularity, written
-- in the same transaction as the rollup. The primary key makes a second merge of the same
-- raw profile into the same granularity fail instead of counting twice. Partitioned like
-- raw_profiles (by the raw profile's window), so that both are dropped together.
CREATE TABLE rollup_ledger (
    raw_id              bigint NOT NULL,
    raw_window_start    timestamptz NOT NULL,
    granularity         text NOT NULL CHECK (granularity IN ('hour', 'day')),
    stream_id           bigint NOT NULL,
    rollup_window_start timestamptz NOT NULL,
    merged_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (raw_id, granularity, raw_window_start)
) PARTITION BY RANGE (raw_window_start);
CREATE INDEX rollup_ledger_rollup ON rollup_ledger (stream_id, granularity, rollup_window_start);

-- Baselines per model: a stored profile (bytes as uploaded), a fixed time range, or a
-- trailing window of trailing_ms before the window being evaluated. At most one default per
-- model.
CREATE TABLE baselines (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project      text NOT NULL,
    model        text NOT NULL,
    name         text NOT NULL CHECK (name <> ''),
    kind         text NOT NULL CHECK (kind IN ('profile', 'range', 'trailing')),
    segment      text NOT NULL DEFAULT '*',
    profile      bytea,
    range_start  timestamptz,
    range_end    timestamptz,
    trailing_ms  bigint CHECK (trailing_ms > 0),
    is_default   boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT baselines_key UNIQUE (project, model, name),
    CONSTRAINT baselines_profile CHECK ((kind = 'profile') = (profile IS NOT NULL)),
    CONSTRAINT baselines_range CHECK (
        (kind = 'range') = (range_start IS NOT NULL AND range_end IS NOT NULL)
        AND (range_start IS NULL OR range_start < range_end)),
    CONSTRAINT baselines_trailing CHECK ((kind = 'trailing') = (trailing_ms IS NOT NULL))
);
CREATE UNIQUE INDEX baselines_one_default ON baselines (project, model) WHERE is_default;

-- Materialised metrics: one row per stream, granularity, window, column, metric and baseline.
-- column_name is '' for dataset-level metrics (performance, latency); baseline is '' for
-- metrics that need none (quality). The primary key serves the time-series query (stream,
-- granularity, column, metric, baseline, then a window range); metrics_window serves "all
-- metrics of one window" (reports, re-computation after late data).
CREATE TABLE metrics (
    stream_id    bigint NOT NULL REFERENCES streams (id),
    granularity  text NOT NULL CHECK (granularity IN ('hour', 'day')),
    window_start timestamptz NOT NULL,
    column_name  text NOT NULL DEFAULT '',
    metric       text NOT NULL,
    baseline     text NOT NULL DEFAULT '',
    value        double precision NOT NULL,
    bound        double precision,
    p_value      double precision,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream_id, granularity, column_name, metric, baseline, window_start)
) PARTITION BY LIST (granularity);
CREATE TABLE metrics_hour PARTITION OF metrics FOR VALUES IN ('hour') PARTITION BY RANGE (window_start);
CREATE TABLE metrics_day PARTITION OF metrics FOR VALUES IN ('day') PARTITION BY RANGE (window_start);
CREATE INDEX metrics_window ON metrics (stream_id, granularity, window_start);

-- API tokens: only a hash of the secret is stored (the server hashes, compares in constant
-- time). A revoked token keeps its row for the audit trail.
CREATE TABLE tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project    text NOT NULL,
    name       text NOT NULL CHECK (name <> ''),
    scopes     text[] NOT NULL CHECK (
        cardinality(scopes) > 0 AND scopes <@ ARRAY['ingest', 'read', 'admin']::text[]),
    hash       bytea NOT NULL CHECK (octet_length(hash) >= 16),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CONSTRAINT tokens_hash UNIQUE (hash)
);
CREATE UNIQUE INDEX tokens_active_name ON tokens (project, name) WHERE revoked_at IS NULL;

-- The partitioned tables that hold one partition per UTC month, and the function that
-- creates a month's partitions when missing. Partitions are named <parent>_pYYYY_MM;
-- retention relies on the name. Concurrent callers are serialised with a transaction-level
-- advisory lock; a caller that waited may still not see the table another one just created
-- (taking an advisory lock does not refresh the catalog cache), so "already exists" and the
-- unique violation two concurrent creations can raise are caught and ignored.
-- Call it in its own short transaction, never inside one that has written to the parent
-- (attaching a partition locks the parent).
CREATE FUNCTION drift_ensure_partitions(at_time timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    lower_bound timestamp := date_trunc('month', at_time AT TIME ZONE 'UTC');
    upper_bound timestamp := date_trunc('month', at_time AT TIME ZONE 'UTC') + interval '1 month';
    suffix      text := to_char(date_trunc('month', at_time AT TIME ZONE 'UTC'), '"_p"YYYY_MM');
    parent      text;
BEGIN
    FOREACH parent IN ARRAY ARRAY['raw_profiles', 'rollup_ledger', 'rollups_hour', 'rollups_day',
                                  'metrics_hour', 'metrics_day'] LOOP
        IF to_regclass(parent || suffix) IS NULL THEN
            PERFORM pg_advisory_xact_lock(hashtext('drift_ensure_partitions'));
            BEGIN
                EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                               parent || suffix, parent,
                               to_char(lower_bound, 'YYYY-MM-DD HH24:MI:SS') || '+00',
                               to_char(upper_bound, 'YYYY-MM-DD HH24:MI:SS') || '+00');
            EXCEPTION WHEN duplicate_table OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
END
$$;

-- Profiles compress well, and compression is most of the CPU cost of storing them. lz4
-- (PostgreSQL 14+, on servers built with it) is several times faster than the default pglz:
-- measured here, a binary COPY of 1,000 profiles of 18 KB took 0.45 s with pglz (8.4 MB on
-- disk), 0.07 s with lz4 (10.5 MB) and 0.11 s uncompressed (20.8 MB). Partitions inherit the
-- setting. Older servers, or servers without lz4, keep pglz.
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 140000 THEN
        EXECUTE 'ALTER TABLE raw_profiles ALTER COLUMN bytes SET COMPRESSION lz4';
        EXECUTE 'ALTER TABLE rollups ALTER COLUMN profile SET COMPRESSION lz4';
        EXECUTE 'ALTER TABLE baselines ALTER COLUMN profile SET COMPRESSION lz4';
    END IF;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END
$$;

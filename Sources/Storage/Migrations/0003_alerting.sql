-- Driftwatch schema, version 3: alert states, the notification outbox and silences.
--
-- The evaluator's state per alert (rule + labels) is kept in alert_states so that `for`
-- durations, grouping timers and resolve notices survive restarts and are shared by replicas.
-- Notifications are written to the outbox in the same transaction as the state change that
-- causes them; delivery workers lease due rows (FOR UPDATE SKIP LOCKED, then lease_until) so
-- that replicas never send the same row at once, and the dedup key (unique per project) lets
-- receivers drop the repeat a crash between sending and recording can cause.
CREATE TABLE alert_states (
    project    text NOT NULL,
    alert_key  text NOT NULL,
    rule       text NOT NULL,
    status     text NOT NULL CHECK (status IN ('inactive', 'pending', 'firing', 'resolved')),
    labels     jsonb NOT NULL DEFAULT '{}',
    state      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project, alert_key)
);
CREATE INDEX alert_states_status ON alert_states (project, status);

-- Evaluator bookkeeping that is not per alert (e.g. notification groups and their timers).
CREATE TABLE alert_groups (
    project    text NOT NULL,
    group_key  text NOT NULL,
    state      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project, group_key)
);

CREATE TABLE notifications (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project         text NOT NULL,
    dedup_key       text NOT NULL,
    receiver        text NOT NULL,
    payload         bytea NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    last_status     integer,
    last_error      text,
    CONSTRAINT notifications_dedup UNIQUE (project, dedup_key)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';

CREATE TABLE silences (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project    text NOT NULL,
    matchers   jsonb NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    created_by text NOT NULL DEFAULT '',
    comment    text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (starts_at < ends_at)
);
CREATE INDEX silences_active ON silences (project, ends_at);

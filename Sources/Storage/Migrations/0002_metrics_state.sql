-- Driftwatch schema, version 2: which rollup windows have current metrics.
--
-- metrics_at is the rollup's updated_at that the metric rows were computed from. A window is
-- due when it has none yet or its rollup changed since (late data); the daemon claims due
-- windows with FOR UPDATE SKIP LOCKED, writes their metric rows and sets metrics_at in the
-- same transaction, so replicas never compute the same window twice and a crash recomputes.
ALTER TABLE rollups ADD COLUMN metrics_at timestamptz;
CREATE INDEX rollups_metrics_due ON rollups (updated_at) WHERE metrics_at IS NULL OR metrics_at < updated_at;

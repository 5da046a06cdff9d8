-- Once-a-day jobs (retention) are scheduled by every bot process; the first process to insert
-- the day's row runs the job and the others skip it, so it runs once however many processes
-- there are. A run that dies part-way is not retried that day: the next day's run covers it.
CREATE TABLE scheduled_runs (
    job         TEXT        NOT NULL,
    slot        TEXT        NOT NULL,
    runner      TEXT        NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ,
    PRIMARY KEY (job, slot)
);

-- Suggested knowledge entries: a customer's handed-over question with the staff answer, personal
-- data masked, near-duplicates merged (times counts them). Nothing reaches the knowledge base
-- until the owner approves it; approved entries are written to the learned-FAQ file.
CREATE TABLE suggestions (
    id              BIGSERIAL PRIMARY KEY,
    question        TEXT        NOT NULL,
    answer          TEXT        NOT NULL,
    alternatives    TEXT[]      NOT NULL DEFAULT '{}',
    times           INTEGER     NOT NULL DEFAULT 1,
    embedding       REAL[],
    escalation_ids  BIGINT[]    NOT NULL DEFAULT '{}',
    status          TEXT        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'rejected')),
    entry_id        TEXT UNIQUE,
    decided_by      TEXT,
    decided_at      TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX suggestions_pending ON suggestions (id) WHERE status = 'pending';

-- Weekly owner reports: the token in the reply address and thread headers proves that a reply
-- answers a report its sender received; number n in the report is suggestion_ids[n].
CREATE TABLE owner_reports (
    id              BIGSERIAL PRIMARY KEY,
    token           TEXT        NOT NULL UNIQUE,
    period_start    TIMESTAMPTZ NOT NULL,
    period_end      TIMESTAMPTZ NOT NULL,
    sent_to         TEXT        NOT NULL,
    suggestion_ids  BIGINT[]    NOT NULL DEFAULT '{}',
    message_id      TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at         TIMESTAMPTZ
);

-- Owner replies already applied (a mail read twice changes nothing twice).
CREATE TABLE owner_report_replies (
    provider_message_id  TEXT        PRIMARY KEY,
    report_id            BIGINT      NOT NULL REFERENCES owner_reports (id) ON DELETE CASCADE,
    sender               TEXT        NOT NULL,
    changes              JSONB       NOT NULL DEFAULT '[]',
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The answer thresholds calibrated for the knowledge base (core/calibration.py), shared by
-- every bot process. The fingerprint names what they were made from (model, files, method):
-- a process whose knowledge differs calibrates again and replaces the row.
CREATE TABLE knowledge_calibration (
    id          SMALLINT    PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    fingerprint TEXT        NOT NULL,
    calibration JSONB       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Contacts, their channel identities, conversations and messages.
CREATE TABLE contacts (
    id            BIGSERIAL PRIMARY KEY,
    display_name  TEXT,
    language      TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE channel_identities (
    id           BIGSERIAL PRIMARY KEY,
    contact_id   BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (channel, external_id)
);

CREATE TABLE conversations (
    id               BIGSERIAL PRIMARY KEY,
    contact_id       BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    channel          TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'bot'
                     CHECK (status IN ('bot', 'escalated', 'human', 'resolved')),
    misses_in_a_row  INTEGER NOT NULL DEFAULT 0,
    summary          TEXT,
    started_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_message_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    closed_at        TIMESTAMPTZ
);
-- At most one open conversation per contact and channel.
CREATE UNIQUE INDEX conversations_one_open
    ON conversations (contact_id, channel) WHERE closed_at IS NULL;

CREATE TABLE messages (
    id                   BIGSERIAL PRIMARY KEY,
    conversation_id      BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    direction            TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    channel              TEXT NOT NULL,
    provider_message_id  TEXT,
    body                 TEXT NOT NULL,
    confidence           REAL,
    escalate             BOOLEAN NOT NULL DEFAULT false,
    source_entry_ids     TEXT[] NOT NULL DEFAULT '{}',
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- The provider's id is what makes a retried webhook a duplicate.
CREATE UNIQUE INDEX messages_provider_id
    ON messages (channel, direction, provider_message_id) WHERE provider_message_id IS NOT NULL;
CREATE INDEX messages_conversation ON messages (conversation_id, id);

CREATE TABLE knowledge_documents (
    path          TEXT PRIMARY KEY,
    content_hash  TEXT NOT NULL,
    chunk_count   INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL CHECK (state IN ('ingesting', 'ready', 'failed')),
    error         TEXT,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE escalations (
    id               BIGSERIAL PRIMARY KEY,
    conversation_id  BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    trigger          TEXT NOT NULL,
    detail           TEXT,
    status           TEXT NOT NULL DEFAULT 'open'
                     CHECK (status IN ('open', 'queued', 'sent', 'answered', 'closed')),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX escalations_conversation ON escalations (conversation_id);

CREATE TABLE consent_records (
    id           BIGSERIAL PRIMARY KEY,
    contact_id   BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    channel      TEXT NOT NULL,
    granted      BOOLEAN NOT NULL,
    notice_text  TEXT NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Customer ratings: a conversation that ended (the bot answered and the customer went quiet,
-- or staff resolved it) is claimed once here; the customer may be asked "How did we do?" (1-5),
-- and their score and comment are kept. One row per conversation, so never asked twice; erased
-- with the contact, removed with the conversation or by retention.
CREATE TABLE ratings (
    id               BIGSERIAL PRIMARY KEY,
    contact_id       BIGINT      NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    conversation_id  BIGINT      NOT NULL UNIQUE REFERENCES conversations (id) ON DELETE CASCADE,
    channel          TEXT        NOT NULL,
    ended_by         TEXT        NOT NULL CHECK (ended_by IN ('bot', 'staff')),
    ended_at         TIMESTAMPTZ NOT NULL,
    -- The question as queued in messages; null when the customer was not asked (email, or
    -- asked about another conversation in the last RATING_EVERY_DAYS).
    question_id      BIGINT      REFERENCES messages (id) ON DELETE SET NULL,
    asked_at         TIMESTAMPTZ,
    score            SMALLINT    CHECK (score BETWEEN 1 AND 5),
    rated_at         TIMESTAMPTZ,
    comment          TEXT,
    commented_at     TIMESTAMPTZ
);
-- "Asked this week?" and "an open question to this customer?" look a contact up by time.
CREATE INDEX ratings_contact_asked ON ratings (contact_id, asked_at) WHERE asked_at IS NOT NULL;
CREATE INDEX ratings_rated ON ratings (rated_at) WHERE score IS NOT NULL;
-- The rating job looks at conversations that went quiet in the last hours.
CREATE INDEX conversations_last_message ON conversations (last_message_at);

-- As in 008, and ratings older than the cutoff go too (a conversation kept alive for longer
-- than the retention period would otherwise keep an old rating and its comment).
CREATE OR REPLACE FUNCTION apply_retention(p_cutoff TIMESTAMPTZ, p_tombstone_cutoff TIMESTAMPTZ)
RETURNS TABLE (counts JSONB, erased_contacts BIGINT[], trimmed_contacts BIGINT[])
LANGUAGE plpgsql AS $$
DECLARE
    v_conversations BIGINT[];
    v_trimmed BIGINT[];
    v_contacts BIGINT[];
    v_messages BIGINT;
    v_tombstones BIGINT;
    v_deliveries BIGINT;
    v_ratings BIGINT;
    v_counts JSONB;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('apply_retention'));
    SELECT count(*) INTO v_messages FROM messages m JOIN conversations c
        ON c.id = m.conversation_id WHERE c.last_message_at < p_cutoff;
    SELECT count(*) INTO v_ratings FROM ratings r JOIN conversations c
        ON c.id = r.conversation_id
     WHERE c.last_message_at < p_cutoff OR r.ended_at < p_cutoff;
    DELETE FROM ratings WHERE ended_at < p_cutoff;
    WITH gone AS (
        DELETE FROM conversations WHERE last_message_at < p_cutoff RETURNING id, contact_id
    )
    SELECT array_agg(id), array_agg(DISTINCT contact_id) INTO v_conversations, v_trimmed
      FROM gone;
    DELETE FROM messages WHERE created_at < p_cutoff AND conversation_id IS NOT NULL;
    GET DIAGNOSTICS v_tombstones = ROW_COUNT;
    v_messages := v_messages + v_tombstones;
    DELETE FROM messages WHERE conversation_id IS NULL AND created_at < p_tombstone_cutoff;
    GET DIAGNOSTICS v_tombstones = ROW_COUNT;
    DELETE FROM deliveries WHERE message_id IS NULL AND updated_at < p_cutoff;
    GET DIAGNOSTICS v_deliveries = ROW_COUNT;
    WITH gone AS (
        DELETE FROM contacts k WHERE k.created_at < p_cutoff
           AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.contact_id = k.id)
        RETURNING id
    )
    SELECT array_agg(id) INTO v_contacts FROM gone;
    v_counts := jsonb_build_object(
        'conversations', coalesce(cardinality(v_conversations), 0),
        'messages', v_messages,
        'tombstones', v_tombstones,
        'delivery_reports', v_deliveries,
        'contacts', coalesce(cardinality(v_contacts), 0)
    -- Named only when some went, so the audit of a run without ratings reads as before.
    ) || CASE WHEN v_ratings > 0 THEN jsonb_build_object('ratings', v_ratings) ELSE '{}' END;
    INSERT INTO privacy_audit (action, requested_by, counts)
    VALUES ('retention', 'schedule', v_counts);
    RETURN QUERY SELECT v_counts, coalesce(v_contacts, '{}'),
        coalesce(ARRAY(SELECT unnest(v_trimmed) EXCEPT SELECT unnest(v_contacts)), '{}');
END;
$$;

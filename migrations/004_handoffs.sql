-- Handoffs to staff: when each is due (business hours), its email, and the token in replies.

ALTER TABLE escalations
    ADD COLUMN token               TEXT,
    ADD COLUMN due_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN sent_at             TIMESTAMPTZ,
    ADD COLUMN handoff_message_id  TEXT,
    ADD COLUMN attempts            INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN last_error          TEXT,
    ADD COLUMN answered_at         TIMESTAMPTZ;
UPDATE escalations SET token = md5(id::text || random()::text) WHERE token IS NULL;
ALTER TABLE escalations ALTER COLUMN token SET NOT NULL;
CREATE UNIQUE INDEX escalations_token ON escalations (token);
CREATE INDEX escalations_due ON escalations (due_at) WHERE status IN ('open', 'queued');

DROP FUNCTION record_reply(BIGINT, BIGINT, TEXT, TEXT, JSONB, REAL, BOOLEAN, TEXT[], TEXT, TEXT);

-- Store the bot's reply as a pending outbound message, update the conversation, and open a
-- handoff due at p_due unless the conversation already has one in progress.
CREATE FUNCTION record_reply(
    p_conversation BIGINT, p_inbound BIGINT, p_address TEXT, p_body TEXT, p_choices JSONB,
    p_confidence REAL, p_escalate BOOLEAN, p_entries TEXT[], p_trigger TEXT, p_detail TEXT,
    p_due TIMESTAMPTZ
) RETURNS TABLE (message_id BIGINT, escalation_id BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    v_message BIGINT;
    v_escalation BIGINT;
BEGIN
    INSERT INTO messages (conversation_id, direction, channel, body, confidence, escalate,
                          source_entry_ids, in_reply_to, address, choices, delivery_status)
    SELECT p_conversation, 'outbound', c.channel, p_body, p_confidence, p_escalate, p_entries,
           p_inbound, p_address, p_choices, 'pending'
      FROM conversations c WHERE c.id = p_conversation
    RETURNING id INTO v_message;
    UPDATE conversations c
       SET misses_in_a_row = CASE WHEN cardinality(p_entries) > 0 THEN 0
                                  WHEN p_trigger = 'no_answer' THEN c.misses_in_a_row + 1
                                  ELSE c.misses_in_a_row END,
           status = CASE WHEN p_escalate AND c.status = 'bot' THEN 'escalated' ELSE c.status END
     WHERE c.id = p_conversation;
    IF p_escalate AND NOT EXISTS (
        SELECT 1 FROM escalations e
         WHERE e.conversation_id = p_conversation AND e.status IN ('open', 'queued', 'sent')) THEN
        INSERT INTO escalations (conversation_id, trigger, detail, status, due_at, token)
             VALUES (p_conversation, coalesce(p_trigger, 'unknown'), p_detail,
                     CASE WHEN coalesce(p_due, now()) <= now() THEN 'open' ELSE 'queued' END,
                     coalesce(p_due, now()),
                     md5(p_conversation::text || clock_timestamp()::text || random()::text))
        RETURNING id INTO v_escalation;
    END IF;
    RETURN QUERY SELECT v_message, v_escalation;
END
$$;

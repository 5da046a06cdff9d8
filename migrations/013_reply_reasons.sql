-- Why each bot reply was what it was (NULL: an answer or small talk; 'no_answer' when the
-- knowledge base had none; 'no_answer_twice', 'asked_for_human', 'complaint', 'keyword:...'
-- when handed over): the owner report counts declined questions and handoffs by reason.
ALTER TABLE messages ADD COLUMN reason TEXT;
CREATE INDEX messages_created ON messages (created_at);
CREATE INDEX conversations_started ON conversations (started_at);

-- As in 004, and the reply keeps its reason.
CREATE OR REPLACE FUNCTION record_reply(
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
                          source_entry_ids, in_reply_to, address, choices, delivery_status,
                          reason)
    SELECT p_conversation, 'outbound', c.channel, p_body, p_confidence, p_escalate, p_entries,
           p_inbound, p_address, p_choices, 'pending', p_trigger
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

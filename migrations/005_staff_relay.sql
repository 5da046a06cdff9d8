-- Staff answer handoffs by email: their replies reach the customer, and the customer's next
-- messages reach them, until the conversation goes back to the bot.

ALTER TABLE escalations ADD COLUMN claimed_until TIMESTAMPTZ;
ALTER TABLE conversations ADD COLUMN human_since TIMESTAMPTZ;

-- Relay a staff reply: store it, queue it to the customer on their channel, and switch the
-- conversation to human mode (or back to the bot). No row for an unknown token or a duplicate.
CREATE FUNCTION record_staff_reply(
    p_token TEXT, p_provider_id TEXT, p_body TEXT, p_staff TEXT, p_back_to_bot BOOLEAN
) RETURNS TABLE (conversation_id BIGINT, staff_message_id BIGINT, outbound_id BIGINT)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_escalation RECORD;
    v_conv RECORD;
    v_staff BIGINT;
    v_out BIGINT;
    v_address TEXT;
BEGIN
    SELECT e.id, e.conversation_id INTO v_escalation FROM escalations e WHERE e.token = p_token;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT c.id, c.channel, c.contact_id INTO v_conv FROM conversations c
     WHERE c.id = v_escalation.conversation_id FOR UPDATE;
    INSERT INTO messages (conversation_id, direction, channel, provider_message_id, body)
         VALUES (v_conv.id, 'inbound', 'staff', p_provider_id, p_body)
    ON CONFLICT (channel, direction, provider_message_id)
        WHERE provider_message_id IS NOT NULL DO NOTHING
    RETURNING id INTO v_staff;
    IF v_staff IS NULL THEN
        RETURN;  -- this staff mail was relayed already
    END IF;
    IF p_body <> '' THEN
        -- Reply where the bot last replied (a group, an email thread), else to the person.
        SELECT m.address INTO v_address FROM messages m
         WHERE m.conversation_id = v_conv.id AND m.direction = 'outbound'
           AND m.channel = v_conv.channel AND m.address IS NOT NULL
         ORDER BY m.id DESC LIMIT 1;
        IF v_address IS NULL THEN
            SELECT ci.external_id INTO v_address FROM channel_identities ci
             WHERE ci.contact_id = v_conv.contact_id AND ci.channel = v_conv.channel LIMIT 1;
        END IF;
        INSERT INTO messages (conversation_id, direction, channel, body, in_reply_to, address,
                              delivery_status)
             VALUES (v_conv.id, 'outbound', v_conv.channel, p_body, v_staff, v_address, 'pending')
        RETURNING id INTO v_out;
    END IF;
    UPDATE escalations e
       SET status = CASE WHEN p_back_to_bot THEN 'closed' ELSE 'answered' END,
           answered_at = coalesce(e.answered_at, now())
     WHERE e.id = v_escalation.id;
    UPDATE conversations c
       SET status = CASE WHEN p_back_to_bot THEN 'bot' ELSE 'human' END,
           human_since = CASE WHEN p_back_to_bot THEN NULL ELSE coalesce(c.human_since, now()) END,
           misses_in_a_row = 0,
           last_message_at = greatest(c.last_message_at, now())
     WHERE c.id = v_conv.id;
    RETURN QUERY SELECT v_conv.id, v_staff, v_out;
END
$$;

-- In human mode, queue the customer's message to staff in the handoff's email thread.
CREATE FUNCTION record_forward(p_conversation BIGINT, p_inbound BIGINT, p_body TEXT)
RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    v_token TEXT;
    v_out BIGINT;
BEGIN
    SELECT e.token INTO v_token FROM escalations e
     WHERE e.conversation_id = p_conversation ORDER BY e.id DESC LIMIT 1;
    IF v_token IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO messages (conversation_id, direction, channel, body, in_reply_to, address,
                          delivery_status)
         VALUES (p_conversation, 'outbound', 'staff', p_body, p_inbound, v_token, 'pending')
    RETURNING id INTO v_out;
    RETURN v_out;
END
$$;

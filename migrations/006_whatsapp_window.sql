-- WhatsApp allows free-form messages only within 24 hours of the customer's last message.
-- Outside it, a staff reply is held, an approved template asks the customer to write back,
-- and the held reply goes out when they do.

ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text'
    CHECK (kind IN ('text', 'template'));
ALTER TABLE messages DROP CONSTRAINT messages_delivery_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_delivery_status_check CHECK (delivery_status IN
    ('pending', 'sending', 'sent', 'partial', 'failed', 'held'));

-- Hold a queued staff reply outside the window; returns true when it was held.
CREATE FUNCTION hold_outside_whatsapp_window(p_outbound BIGINT, p_note TEXT, p_token TEXT)
RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
DECLARE
    v_out RECORD;
    v_last TIMESTAMPTZ;
BEGIN
    SELECT m.id, m.conversation_id, m.channel, m.address, m.in_reply_to INTO v_out
      FROM messages m WHERE m.id = p_outbound;
    IF NOT FOUND OR v_out.channel <> 'whatsapp' THEN
        RETURN false;
    END IF;
    SELECT max(m.created_at) INTO v_last FROM messages m
     WHERE m.conversation_id = v_out.conversation_id AND m.direction = 'inbound'
       AND m.channel = 'whatsapp';
    IF v_last IS NOT NULL AND v_last > now() - interval '24 hours' THEN
        RETURN false;
    END IF;
    UPDATE messages SET delivery_status = 'held' WHERE id = v_out.id;
    INSERT INTO messages (conversation_id, direction, channel, body, in_reply_to, address,
                          delivery_status, kind)
         VALUES (v_out.conversation_id, 'outbound', 'whatsapp', '', v_out.in_reply_to,
                 v_out.address, 'pending', 'template');
    INSERT INTO messages (conversation_id, direction, channel, body, in_reply_to, address,
                          delivery_status)
         VALUES (v_out.conversation_id, 'outbound', 'staff', p_note, v_out.in_reply_to,
                 p_token, 'pending');
    RETURN true;
END
$$;

-- The customer wrote: held replies of their conversation go out as answers to this message.
CREATE FUNCTION release_held(p_conversation BIGINT, p_inbound BIGINT) RETURNS INTEGER
LANGUAGE sql AS $$
    WITH released AS (
        UPDATE messages SET delivery_status = 'pending', in_reply_to = p_inbound
         WHERE conversation_id = p_conversation AND delivery_status = 'held'
        RETURNING 1)
    SELECT count(*)::INTEGER FROM released
$$;

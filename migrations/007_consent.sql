-- Consent: record_inbound also says whether the customer agreed (latest record, or null when
-- never asked), so the core can show the notice and, where required, wait for a yes.

DROP FUNCTION record_inbound(TEXT, TEXT, TEXT, TEXT, TIMESTAMPTZ, TEXT, INTERVAL);
CREATE INDEX consent_records_contact ON consent_records (contact_id, id);

-- Store an inbound message with its contact and conversation. Returns no row for a duplicate,
-- except a message stored earlier that never got its reply: a worker died handling it, so the
-- record comes back and the message is handled again.
CREATE FUNCTION record_inbound(
    p_channel TEXT, p_external_id TEXT, p_provider_id TEXT, p_body TEXT,
    p_at TIMESTAMPTZ, p_name TEXT, p_idle INTERVAL
) RETURNS TABLE (
    message_id BIGINT, conversation_id BIGINT, status TEXT, misses INTEGER,
    contact_id BIGINT, is_returning BOOLEAN, display_name TEXT, language TEXT,
    summaries TEXT[], closed_conversation_id BIGINT, closed_summary TEXT, consent BOOLEAN
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_contact BIGINT;
    v_returning BOOLEAN := true;
    v_conv RECORD;
    v_open BOOLEAN;
    v_message BIGINT;
    v_closed BIGINT;
    v_closed_summary TEXT;
BEGIN
    IF p_provider_id IS NOT NULL THEN
        SELECT m.id, m.conversation_id INTO v_conv FROM messages m
         WHERE m.channel = p_channel AND m.direction = 'inbound'
           AND m.provider_message_id = p_provider_id;
        IF FOUND THEN
            IF EXISTS (SELECT 1 FROM messages o WHERE o.in_reply_to = v_conv.id) THEN
                RETURN;
            END IF;
            RETURN QUERY
            SELECT v_conv.id, c.id, c.status, c.misses_in_a_row, k.id, true,
                   k.display_name, k.language,
                   ARRAY(SELECT s.summary FROM conversations s
                          WHERE s.contact_id = k.id AND s.id <> c.id AND s.summary IS NOT NULL
                          ORDER BY s.id DESC LIMIT 3),
                   NULL::BIGINT, NULL::TEXT,
                   (SELECT r.granted FROM consent_records r WHERE r.contact_id = k.id
                     ORDER BY r.id DESC LIMIT 1)
              FROM conversations c JOIN contacts k ON k.id = c.contact_id
             WHERE c.id = v_conv.conversation_id;
            RETURN;
        END IF;
    END IF;

    SELECT ci.contact_id INTO v_contact FROM channel_identities ci
     WHERE ci.channel = p_channel AND ci.external_id = p_external_id;
    IF NOT FOUND THEN
        v_returning := false;
        INSERT INTO contacts (display_name) VALUES (p_name) RETURNING id INTO v_contact;
        INSERT INTO channel_identities (contact_id, channel, external_id)
             VALUES (v_contact, p_channel, p_external_id)
        ON CONFLICT (channel, external_id) DO NOTHING;
        IF NOT FOUND THEN
            -- Another worker created this identity a moment ago: use its contact.
            DELETE FROM contacts c WHERE c.id = v_contact;
            SELECT ci.contact_id INTO v_contact FROM channel_identities ci
             WHERE ci.channel = p_channel AND ci.external_id = p_external_id;
            v_returning := true;
        END IF;
    ELSIF p_name IS NOT NULL THEN
        UPDATE contacts c SET display_name = p_name, updated_at = now()
         WHERE c.id = v_contact AND c.display_name IS DISTINCT FROM p_name;
    END IF;

    SELECT c.id, c.status, c.misses_in_a_row, c.last_message_at INTO v_conv
      FROM conversations c
     WHERE c.contact_id = v_contact AND c.channel = p_channel AND c.closed_at IS NULL
       FOR UPDATE;
    v_open := FOUND;
    IF v_open AND p_at - v_conv.last_message_at >= p_idle THEN
        UPDATE conversations c SET closed_at = now(), summary = conversation_summary(c.id),
               status = CASE WHEN c.status = 'bot' THEN 'resolved' ELSE c.status END
         WHERE c.id = v_conv.id
        RETURNING c.id, c.summary INTO v_closed, v_closed_summary;
        v_open := false;
    END IF;
    IF NOT v_open THEN
        INSERT INTO conversations (contact_id, channel, started_at, last_message_at)
             VALUES (v_contact, p_channel, p_at, p_at)
        ON CONFLICT (contact_id, channel) WHERE closed_at IS NULL DO NOTHING
        RETURNING id, 'bot'::TEXT AS status, 0 AS misses_in_a_row, p_at AS last_message_at
             INTO v_conv;
        IF NOT FOUND THEN
            SELECT c.id, c.status, c.misses_in_a_row, c.last_message_at INTO v_conv
              FROM conversations c
             WHERE c.contact_id = v_contact AND c.channel = p_channel AND c.closed_at IS NULL
               FOR UPDATE;
        END IF;
    END IF;

    INSERT INTO messages (conversation_id, direction, channel, provider_message_id, body, created_at)
         VALUES (v_conv.id, 'inbound', p_channel, p_provider_id, p_body, p_at)
    ON CONFLICT (channel, direction, provider_message_id)
        WHERE provider_message_id IS NOT NULL DO NOTHING
    RETURNING id INTO v_message;
    IF v_message IS NULL THEN
        RETURN;  -- the same delivery raced us and won
    END IF;
    UPDATE conversations c SET last_message_at = greatest(c.last_message_at, p_at)
     WHERE c.id = v_conv.id;

    RETURN QUERY
    SELECT v_message, v_conv.id, v_conv.status, v_conv.misses_in_a_row, v_contact, v_returning,
           k.display_name, k.language,
           ARRAY(SELECT s.summary FROM conversations s
                  WHERE s.contact_id = v_contact AND s.id <> v_conv.id AND s.summary IS NOT NULL
                  ORDER BY s.id DESC LIMIT 3),
           v_closed, v_closed_summary,
           (SELECT r.granted FROM consent_records r WHERE r.contact_id = v_contact
             ORDER BY r.id DESC LIMIT 1)
      FROM contacts k WHERE k.id = v_contact;
END
$$;

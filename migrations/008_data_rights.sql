-- Customers' data rights (PDPA): erasure on request, retention, and an audit trail without
-- personal data.

-- An erased customer's last message stays as a bodiless tombstone without a conversation, so a
-- provider's retry of it is still a duplicate; the erasure's confirmation is its reply.
ALTER TABLE messages ALTER COLUMN conversation_id DROP NOT NULL;
CREATE INDEX messages_without_conversation ON messages (created_at) WHERE conversation_id IS NULL;

-- What was erased or exported, when, on whose request: counts only, never who.
CREATE TABLE privacy_audit (
    id            BIGSERIAL PRIMARY KEY,
    action        TEXT NOT NULL CHECK (action IN ('export', 'erase', 'retention')),
    requested_by  TEXT NOT NULL CHECK (requested_by IN ('customer', 'staff', 'schedule')),
    channel       TEXT,
    counts        JSONB NOT NULL DEFAULT '{}',
    at            TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Erasures whose copies outside PostgreSQL (Redis memory, summary vectors) are still to be
-- removed. A row lives from the PostgreSQL erasure until those are gone, so a crash in between
-- is finished later instead of leaving data behind.
CREATE TABLE erasures_pending (
    contact_id  BIGINT PRIMARY KEY,
    identities  JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Erase a contact and everything hanging off it in one transaction, queue the customer's
-- confirmation (when there is one) and write the audit record. Returns what was removed.
CREATE FUNCTION erase_contact(
    p_contact BIGINT, p_requested_by TEXT, p_channel TEXT,
    p_keep_message BIGINT, p_address TEXT, p_confirmation TEXT
) RETURNS JSONB
LANGUAGE plpgsql AS $$
DECLARE
    v_counts JSONB;
    v_identities JSONB;
BEGIN
    SELECT jsonb_agg(jsonb_build_object('channel', ci.channel, 'external_id', ci.external_id))
      INTO v_identities FROM channel_identities ci WHERE ci.contact_id = p_contact;
    IF v_identities IS NULL AND NOT EXISTS (SELECT 1 FROM contacts WHERE id = p_contact) THEN
        RETURN NULL;
    END IF;
    SELECT jsonb_build_object(
        'contacts', 1,
        'channel_identities', jsonb_array_length(coalesce(v_identities, '[]')),
        'conversations', (SELECT count(*) FROM conversations WHERE contact_id = p_contact),
        'messages', (SELECT count(*) FROM messages m JOIN conversations c
                      ON c.id = m.conversation_id WHERE c.contact_id = p_contact),
        'handoffs', (SELECT count(*) FROM escalations e JOIN conversations c
                      ON c.id = e.conversation_id WHERE c.contact_id = p_contact),
        'consent_records', (SELECT count(*) FROM consent_records WHERE contact_id = p_contact)
    ) INTO v_counts;
    IF p_keep_message IS NOT NULL THEN
        UPDATE messages SET conversation_id = NULL, body = '', address = NULL,
               source_entry_ids = '{}', choices = '[]', delivery_error = NULL
         WHERE id = p_keep_message;
    END IF;
    DELETE FROM contacts WHERE id = p_contact;
    IF p_confirmation IS NOT NULL THEN
        INSERT INTO messages (conversation_id, direction, channel, body, in_reply_to, address,
                              delivery_status)
        VALUES (NULL, 'outbound', p_channel, p_confirmation, p_keep_message, p_address,
                'pending');
    END IF;
    INSERT INTO erasures_pending (contact_id, identities)
    VALUES (p_contact, coalesce(v_identities, '[]'))
    ON CONFLICT (contact_id) DO NOTHING;
    INSERT INTO privacy_audit (action, requested_by, channel, counts)
    VALUES ('erase', p_requested_by, p_channel, v_counts);
    RETURN v_counts;
END;
$$;

-- Remove what is older than the retention cutoff: whole conversations whose last message is
-- older, older messages of newer conversations, contacts left with nothing, tombstones and
-- unmatched delivery reports. One run at a time; running again removes nothing more.
CREATE FUNCTION apply_retention(p_cutoff TIMESTAMPTZ, p_tombstone_cutoff TIMESTAMPTZ)
RETURNS TABLE (counts JSONB, erased_contacts BIGINT[], trimmed_contacts BIGINT[])
LANGUAGE plpgsql AS $$
DECLARE
    v_conversations BIGINT[];
    v_trimmed BIGINT[];
    v_contacts BIGINT[];
    v_messages BIGINT;
    v_tombstones BIGINT;
    v_deliveries BIGINT;
    v_counts JSONB;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('apply_retention'));
    SELECT count(*) INTO v_messages FROM messages m JOIN conversations c
        ON c.id = m.conversation_id WHERE c.last_message_at < p_cutoff;
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
    );
    INSERT INTO privacy_audit (action, requested_by, counts)
    VALUES ('retention', 'schedule', v_counts);
    RETURN QUERY SELECT v_counts, coalesce(v_contacts, '{}'),
        coalesce(ARRAY(SELECT unnest(v_trimmed) EXCEPT SELECT unnest(v_contacts)), '{}');
END;
$$;

-- WhatsApp buttons: Twilio Content API templates created on demand, one per distinct content.
CREATE TABLE IF NOT EXISTS whatsapp_contents (
    content_hash text PRIMARY KEY,
    content_sid text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

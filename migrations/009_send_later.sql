-- A reply the provider would not take for a while (SMTP down, Telegram or Twilio failing for
-- minutes) waits as 'retry' and is sent again later, instead of failing for good after the first
-- round of retries.

ALTER TABLE messages ADD COLUMN next_attempt_at TIMESTAMPTZ;
ALTER TABLE messages DROP CONSTRAINT messages_delivery_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_delivery_status_check CHECK (delivery_status IN
    ('pending', 'sending', 'sent', 'partial', 'failed', 'held', 'retry'));
CREATE INDEX messages_send_later ON messages (next_attempt_at)
    WHERE next_attempt_at IS NOT NULL AND delivery_status IN ('retry', 'sending');

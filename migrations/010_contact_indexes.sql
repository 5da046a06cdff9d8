-- A customer's conversations are looked up by contact for web chat history, data requests and
-- retention; without this each lookup scanned the table.
CREATE INDEX conversations_contact ON conversations (contact_id, id);

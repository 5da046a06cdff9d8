"""The embedded servers the bot starts when no URL is set: PostgreSQL and Valkey."""

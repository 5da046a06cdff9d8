"""Channel adapters: provider input to InboundMessage, replies back out."""

"""The inbound queue and what feeds and drains it: ingress, workers, delivery, dead letters."""

"""The weekly owner report: figures, unanswered-question groups, the mail, `bot report`."""

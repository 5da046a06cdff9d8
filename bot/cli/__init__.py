"""The `bot` command line: serve, worker, chat, doctor, privacy, kb, report."""

"""A channel that lives only in the tests: a new channel needs one folder and one line."""

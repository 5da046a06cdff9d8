"""Fakes of the providers we cannot reach in tests, speaking their real wire format."""

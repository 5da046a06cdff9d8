"""Application: configuration, services, CLI and wiring."""

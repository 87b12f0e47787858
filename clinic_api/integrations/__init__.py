"""Clients of the services the reference calls. Each has a standalone implementation (the
default: this service keeps what it needs in its own database) and a tidepool one (HTTP calls to
the reference's services at the reference's addresses)."""

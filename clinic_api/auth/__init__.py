"""Authentication (who is calling) and authorization (may they do this)."""

"""Rules that span collections."""

"""Tidepool Clinics API 1.0 served from Python."""

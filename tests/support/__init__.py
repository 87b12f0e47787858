"""Shared test support: the store under test, builders and helpers."""

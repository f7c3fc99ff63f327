"""Temporal workflow SDK (import-compatible with the official ``temporalio`` package)."""

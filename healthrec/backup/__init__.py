"""Backups: `flask backup dump|restore` (docs/operating.md)."""

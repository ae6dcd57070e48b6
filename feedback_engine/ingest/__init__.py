"""Ingest stage: survey, review and social exports -> feedback rows (bad records -> quarantine)."""

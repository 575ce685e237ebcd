"""Patient side: people and clinical events (PHI lives only in this app)."""

"""The knowledge graph itself: loading, reasoning, validation. Knows nothing of Flask or click."""

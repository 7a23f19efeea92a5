"""Answers from the merchant's own documents in ``data/knowledge/<language>/*.md``."""

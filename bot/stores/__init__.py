"""Tracker stores, lock stores and the event broker named in ``endpoints.yml`` and
``endpoints.production.yml``."""

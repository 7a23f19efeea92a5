"""A fresh PostgreSQL database per test, on the machine's shared server (trust
auth, ``EASYFLOW_TEST_POSTGRES_DSN``), dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2

POSTGRES_ADMIN_DSN = os.environ.get(
    "EASYFLOW_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def fresh_postgres(prefix: str) -> Iterator[str]:
    """The URL of a new empty database named ``<prefix>_<random>``."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(POSTGRES_ADMIN_DSN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from easyflow_api.db import Database
from easyflow_api.models import Base


def test_migrations_match_models(migrated: Database) -> None:
    with migrated.engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert context.get_current_revision() == "0006"
        assert compare_metadata(context, Base.metadata) == []
        unique = inspect(conn).get_unique_constraints("events")
        assert any(c["column_names"] == ["hash"] for c in unique)


def test_migrate_is_idempotent(migrated: Database) -> None:
    migrated.migrate()
    migrated.migrate()

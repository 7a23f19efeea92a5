"""The action server's own tables: an SQLite file on the embedded default, or a
shared database (PostgreSQL) that every action-server replica uses in production.

``engine_for`` takes a path (an SQLite file, created with its folder) or an
SQLAlchemy URL. On SQLite every transaction starts with ``BEGIN IMMEDIATE``, so a
read-then-write (a refund booked against what is left of a payment) holds the
write lock from its first read, as ``SELECT … FOR UPDATE`` does on PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, event, inspect
from sqlalchemy.engine import Engine, create_engine
from sqlalchemy.exc import DBAPIError


def engine_for(target: Path | str, metadata: MetaData) -> Engine:
    """An engine on ``target`` with ``metadata``'s tables created if missing."""
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{target}"
    else:
        url = target
    if url.startswith("sqlite"):
        engine = create_engine(
            url, future=True, connect_args={"timeout": 10, "check_same_thread": False}
        )
        _begin_immediate(engine)
    else:
        engine = create_engine(url, future=True, pool_pre_ping=True, pool_size=4)
    metadata.create_all(engine)
    return engine


def _begin_immediate(engine: Engine) -> None:
    # pysqlite's own BEGIN is deferred and issued late; take over (SQLAlchemy's
    # documented recipe for SQLite transactions).
    @event.listens_for(engine, "connect")
    def _no_pysqlite_begin(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def add_missing_columns(engine: Engine, table: Table) -> None:
    """Brings a table created by an earlier release up to ``table``: adds the
    columns it lacks (each must be nullable) and creates its missing indexes.
    ``create_all`` only creates tables that do not exist yet."""
    for column in table.columns:
        if column.name in _column_names(engine, table):
            continue
        if not column.nullable:
            raise RuntimeError(f"{table.name}.{column.name} cannot be added")
        kind = column.type.compile(dialect=engine.dialect)
        try:
            with engine.begin() as db:
                db.exec_driver_sql(
                    f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'
                )
        except DBAPIError:
            # Another process (a second worker, a replica) added it meanwhile.
            if column.name not in _column_names(engine, table):
                raise
    for index in table.indexes:
        try:
            index.create(engine, checkfirst=True)
        except DBAPIError:
            if index.name not in {
                i["name"] for i in inspect(engine).get_indexes(table.name)
            }:
                raise


def _column_names(engine: Engine, table: Table) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table.name)}


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class Tables:
    """A store over ``metadata``'s tables at ``target``; connects on first use."""

    metadata: MetaData

    def __init__(self, target: Path | str) -> None:
        self.target = target
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            engine = engine_for(self.target, self.metadata)
            self._prepare(engine)
            self._engine = engine
        return self._engine

    def _prepare(self, engine: Engine) -> None:
        """Brings tables of an earlier release up to date (none by default)."""

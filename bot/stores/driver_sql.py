"""A SQLAlchemy statement compiled once, then run as the driver's own SQL.

Every ``session.execute(statement, params)`` computes the statement's cache key,
looks its compiled form up, and builds a parameter set through the compiler:
for the tracker store's three statements per turn (the newest-row query, the
insert of the turn's events, the broker's insert) that was about 8% of a Rasa
worker's CPU under the serving bench, several times the database's own work.
``DriverStatement`` compiles the statement once for the connection's dialect and
hands the SQL text and the parameters straight to the driver
(``Connection.exec_driver_sql``): the same SQL SQLAlchemy would send, in the same
transaction.

The parameters get the conversions SQLAlchemy would apply on the way (a type's
bind processor, such as SQLite's ``to_float`` for ``Float`` columns). A parameter
the compiled SQL does not name runs through ``session.execute`` as before; so do
inserts of many rows outside SQLite: psycopg2's own ``executemany`` sends one
statement per row, where SQLAlchemy batches them (``execute_values``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement


class _Compiled:
    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: list[str]):
        compiled = statement.compile(dialect=dialect, column_keys=keys)
        self.sql = str(compiled)
        self.defaults = {
            name: bind.effective_value
            for bind, name in compiled.bind_names.items()
            if not bind.required
        }
        self.order: Sequence[str] | None = (
            compiled.positiontup if compiled.positional else None
        )
        self.names = set(compiled.bind_names.values())
        self.processors = dict(compiled._bind_processors)  # type: ignore[attr-defined]

    def params(self, row: Mapping[str, Any]) -> Any:
        values = {**self.defaults, **row}
        for name, process in self.processors.items():
            if name in values:
                values[name] = process(values[name])
        if self.order is None:
            return values
        return tuple(values[name] for name in self.order)


class DriverStatement:
    """``build()`` (a Core statement) run with rows of parameters by name."""

    def __init__(self, build: Callable[[], ClauseElement]) -> None:
        self._build = build
        self._statement: ClauseElement | None = None
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}

    @property
    def statement(self) -> ClauseElement:
        if self._statement is None:
            self._statement = self._build()
        return self._statement

    def execute(self, session: Any, rows: Mapping[str, Any] | list[Any]) -> Any:
        """Like ``session.execute(statement, rows)``: one row of parameters, or a
        list of rows with the same keys (the driver's ``executemany``)."""
        many = isinstance(rows, list)
        first = rows[0] if many else rows
        keys = tuple(first)
        connection = session.connection()
        dialect = connection.dialect
        compiled = self._compiled.get((dialect.name, keys))
        if compiled is None:
            compiled = self._compiled[(dialect.name, keys)] = _Compiled(
                self.statement, dialect, list(keys)
            )
        batched_by_sqlalchemy = many and dialect.name != "sqlite"
        if batched_by_sqlalchemy or not compiled.names.issuperset(keys):
            return session.execute(self.statement, rows)
        params = (
            [compiled.params(row) for row in rows] if many else compiled.params(first)
        )
        return connection.exec_driver_sql(compiled.sql, params)

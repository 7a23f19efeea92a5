"""DriverStatement sends SQLAlchemy's SQL with SQLAlchemy's parameters, on SQLite
and PostgreSQL, and falls back to ``session.execute`` where it must."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.stores.driver_sql import DriverStatement
from tests.databases import fresh_postgres

METADATA = sa.MetaData()
ROWS = sa.Table(
    "rows",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255)),
    sa.Column("at", sa.Float),
    sa.Column("body", sa.Text),
)
VALUES = [
    {"name": "a", "at": 1765000000.25, "body": '{"x": 1}'},
    {"name": "b", "at": 2, "body": None},  # an int for a Float column
    {"name": None, "at": None, "body": "é ' \" %s %(x)s ?"},
]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[sa.engine.Engine]:
    if request.param == "sqlite":
        made = sa.create_engine(f"sqlite:///{tmp_path / 'rows.db'}")
        METADATA.create_all(made)
        yield made
        made.dispose()
        return
    with fresh_postgres("driver_sql") as url:
        made = sa.create_engine(url)
        METADATA.create_all(made)
        yield made
        made.dispose()


def _stored(engine: sa.engine.Engine) -> list[tuple]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(ROWS).order_by(ROWS.c.id)).all()
    return [tuple(row)[1:] for row in rows]


def _stored_by_sqlalchemy(engine: sa.engine.Engine, rows: object) -> list[tuple]:
    """What ``session.execute(insert, rows)`` stores; the table is left empty."""
    with Session(engine) as session:
        session.execute(ROWS.insert(), rows)
        session.commit()
    stored = _stored(engine)
    with engine.begin() as connection:
        connection.execute(ROWS.delete())
    return stored


def test_many_rows_are_stored_as_session_execute_stores_them(
    engine: sa.engine.Engine,
) -> None:
    expected = _stored_by_sqlalchemy(engine, VALUES)
    insert = DriverStatement(ROWS.insert)
    with Session(engine) as session:
        insert.execute(session, VALUES)
        insert.execute(session, VALUES[0])
        session.commit()
    assert _stored(engine) == expected + expected[:1]
    assert isinstance(_stored(engine)[1][1], float)  # SQLite's to_float applied


def test_a_query_with_a_limit_gives_the_newest_row(engine: sa.engine.Engine) -> None:
    newest = DriverStatement(
        lambda: sa.select(ROWS.c.id, ROWS.c.name)
        .where(ROWS.c.name == sa.bindparam("name"))
        .order_by(ROWS.c.id.desc())
        .limit(1)
    )
    with Session(engine) as session:
        session.execute(ROWS.insert(), VALUES + VALUES)
        session.commit()
        assert tuple(newest.execute(session, {"name": "a"}).first()) == (4, "a")
        assert newest.execute(session, {"name": "nobody"}).first() is None
        assert newest._compiled  # compiled once, by the driver's SQL


def test_a_parameter_the_sql_does_not_name_goes_through_sqlalchemy(
    engine: sa.engine.Engine,
) -> None:
    odd = {"name": "a", "nonsense": 1}
    expected = _stored_by_sqlalchemy(engine, odd)
    with Session(engine) as session:
        DriverStatement(ROWS.insert).execute(session, odd)
        session.commit()
    assert _stored(engine) == expected == [("a", None, None)]

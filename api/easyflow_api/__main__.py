"""Command line: serve, ingest, migrate, create-user, seed-demo.

python -m easyflow_api serve [--host 127.0.0.1] [--port 8000]
python -m easyflow_api ingest --once [--source sql|rabbitmq]
python -m easyflow_api migrate
python -m easyflow_api create-user NAME --role admin|analyst|operator
python -m easyflow_api seed-demo [--base-day YYYY-MM-DD] [--events-db PATH]
python -m easyflow_api rotate-secrets
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from datetime import UTC, date, datetime

from easyflow_api.core.config import ConfigError, Settings, load_settings
from easyflow_api.core.logging import configure_logging
from easyflow_api.core.security import ROLES
from easyflow_api.db import Database

logger = logging.getLogger("easyflow_api.cli")


def _database(settings: Settings) -> Database:
    db = Database(settings.database_url)
    db.migrate()
    return db


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    # proxy_headers off: uvicorn would otherwise believe X-Forwarded-For from
    # 127.0.0.1 on its own; EASYFLOW_API_TRUSTED_PROXIES is the one switch.
    uvicorn.run(
        "easyflow_api.main:app",
        host=args.host,
        port=args.port,
        log_config=None,
        proxy_headers=False,
    )
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    _database(settings).dispose()
    print("database is at the latest revision")
    return 0


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    from easyflow_api.services.ingest import RabbitIngestor, SqlBrokerIngestor
    from easyflow_api.services.projection import Projector

    db = _database(settings)
    projector = Projector(settings.api_low_confidence)
    source = args.source or (
        "sql" if settings.api_ingest == "none" else settings.api_ingest
    )
    try:
        if source == "sql":
            ingestor = SqlBrokerIngestor(
                db, settings.events_url, projector, settings.api_ingest_batch
            )
            if args.once:
                stored = ingestor.run_once()
            else:
                from easyflow_api.services.ingest import run_sql_forever

                asyncio.run(
                    run_sql_forever(
                        ingestor, settings.api_ingest_interval_s, asyncio.Event()
                    )
                )
                return 0
            ingestor.close()
        else:
            rabbit = RabbitIngestor(
                db, settings.rabbitmq_url, settings.rabbitmq_queue, projector
            )
            if args.once:
                stored = asyncio.run(rabbit.run_once())
            else:
                asyncio.run(
                    rabbit.run_forever(settings.api_ingest_interval_s, asyncio.Event())
                )
                return 0
    finally:
        db.dispose()
    print(f"ingested {stored} new events from {source}")
    return 0


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> int:
    from easyflow_api.services import audit, users

    password = settings.new_user_password or getpass.getpass(
        f"password for {args.username}: "
    )
    if len(password) < 8:
        print("password must have at least 8 characters", file=sys.stderr)
        return 2
    db = _database(settings)
    try:
        with db.session() as session:
            try:
                users.create_user(
                    session,
                    args.username,
                    password,
                    args.role,
                    args.display_name,
                    production=settings.env == "production",
                )
            except (users.UserConflict, users.WeakPassword) as exc:
                print(str(exc), file=sys.stderr)
                return 1
            audit.record(
                session, "cli", "user.create", args.username, {"role": args.role}
            )
            session.commit()
    finally:
        db.dispose()
    print(f"created {args.role} {args.username}")
    return 0


def cmd_seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    from easyflow_api.seed import demo_events, load_demo, write_rasa_sql_broker

    base = (
        date.fromisoformat(args.base_day) if args.base_day else datetime.now(UTC).date()
    )
    if args.events_db:
        from pathlib import Path

        write_rasa_sql_broker(Path(args.events_db), demo_events(base))
        print(f"wrote the demo events to {args.events_db} (Rasa SQL broker schema)")
        return 0
    db = _database(settings)
    try:
        stored = load_demo(db, base, settings.api_low_confidence)
    finally:
        db.dispose()
    print(f"seeded {stored} demo events (days {base} and the two before, UTC)")
    return 0


def cmd_rotate_secrets(settings: Settings, args: argparse.Namespace) -> int:
    """Seals every integration secret with EASYFLOW_SECRETS_KEY; the keys that
    sealed them before must be in EASYFLOW_SECRETS_OLD_KEYS until this ran."""
    from easyflow_api.core.secretbox import SecretOpenError
    from easyflow_api.services import integrations

    try:
        keyring = settings.keyring()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    db = _database(settings)
    try:
        with db.session() as session:
            try:
                resealed = integrations.rotate(session, keyring)
            except SecretOpenError as exc:
                session.rollback()
                print(
                    f"cannot open a stored secret ({exc}): put the key that sealed "
                    "it in EASYFLOW_SECRETS_OLD_KEYS; nothing was changed",
                    file=sys.stderr,
                )
                return 1
    finally:
        db.dispose()
    print(f"resealed {resealed} secrets with key {keyring.current_id}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m easyflow_api")
    sub = root.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the api with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(
        func=cmd_migrate
    )
    ingest = sub.add_parser("ingest", help="ingest Rasa events")
    ingest.add_argument("--once", action="store_true", help="drain and exit")
    ingest.add_argument("--source", choices=("sql", "rabbitmq"))
    ingest.set_defaults(func=cmd_ingest)
    user = sub.add_parser(
        "create-user",
        help="create a user (password from EASYFLOW_NEW_USER_PASSWORD or a prompt)",
    )
    user.add_argument("username")
    user.add_argument("--role", choices=ROLES, required=True)
    user.add_argument("--display-name")
    user.set_defaults(func=cmd_create_user)
    seed = sub.add_parser("seed-demo", help="load the demo conversations")
    seed.add_argument("--base-day", help="last day of the data, YYYY-MM-DD (UTC)")
    seed.add_argument(
        "--events-db", help="write Rasa SQL broker rows to this SQLite file instead"
    )
    seed.set_defaults(func=cmd_seed_demo)
    sub.add_parser(
        "rotate-secrets",
        help="seal every integration secret again with EASYFLOW_SECRETS_KEY",
    ).set_defaults(func=cmd_rotate_secrets)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging()
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    return int(args.func(settings, args))


if __name__ == "__main__":
    sys.exit(main())

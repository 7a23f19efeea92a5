"""Dependency checks for /api/health/detailed."""

from __future__ import annotations

import asyncio

import aio_pika
import httpx
from sqlalchemy import text

from easyflow_api.core.config import Settings
from easyflow_api.db import Database
from easyflow_api.services.ingest import SqlBrokerIngestor


def _database(db: Database) -> dict[str, object]:
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"ok": True, "detail": db.engine.dialect.name}
    except Exception as exc:
        return {"ok": False, "detail": type(exc).__name__}


async def _http(url: str, timeout: float) -> dict[str, object]:
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        return {"ok": False, "detail": f"unreachable ({type(exc).__name__})"}
    return {"ok": response.status_code == 200, "detail": f"HTTP {response.status_code}"}


async def _broker(settings: Settings, ingestor: SqlBrokerIngestor | None) -> dict:
    if settings.api_ingest == "rabbitmq":
        try:
            connection = await aio_pika.connect(settings.rabbitmq_url, timeout=3)
            await connection.close()
        except Exception as exc:
            return {
                "ok": False,
                "detail": f"rabbitmq unreachable ({type(exc).__name__})",
            }
        return {"ok": True, "detail": f"rabbitmq queue {settings.rabbitmq_queue}"}
    if settings.api_ingest == "none" or ingestor is None:
        return {"ok": True, "detail": "ingestion disabled"}
    try:
        position = await asyncio.to_thread(ingestor.position)
    except Exception as exc:
        return {"ok": False, "detail": type(exc).__name__}
    if await asyncio.to_thread(ingestor.events_engine) is None:
        return {"ok": False, "detail": "SQL broker database not found (no events yet)"}
    return {"ok": True, "detail": f"sql broker, checkpoint {position}"}


async def detailed(
    settings: Settings, db: Database, ingestor: SqlBrokerIngestor | None
) -> dict[str, object]:
    timeout = min(settings.api_http_timeout_s, 3.0)
    database, rasa, actions, broker = await asyncio.gather(
        asyncio.to_thread(_database, db),
        _http(settings.rasa_url.rstrip("/") + "/", timeout),
        _http(settings.action_server_url.rstrip("/") + "/health", timeout),
        _broker(settings, ingestor),
    )
    checks = {
        "database": database,
        "rasa": rasa,
        "action_server": actions,
        "broker": broker,
    }
    ok = all(c["ok"] for c in checks.values())
    return {"status": "ok" if ok else "degraded", "checks": checks}

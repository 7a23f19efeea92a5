"""Integrations saved from the dashboard: validated, sealed, masked, audited.

A save stores the form as the next ``version``; it becomes the active
configuration only when a check through the action server passed for exactly
that version (``record_check``), so a mistyped key never replaces one that
works. Secrets leave this module only sealed (the action server's feed, the
check) or masked (``view``); the audit names the fields that changed, never a
value.
"""

from __future__ import annotations

import json
import logging
import secrets as random_secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from easyflow_api.core.secretbox import Keyring, SecretOpenError
from easyflow_api.core.times import iso
from easyflow_api.models import Integration
from easyflow_api.services import audit
from easyflow_api.services.integration_catalog import PLATFORMS, Platform

logger = logging.getLogger(__name__)
MAX_VALUE_LENGTH = 2000
MASK = "••••"
CHECK_STATUSES = ("ok", "error", "unreachable")


class InvalidForm(ValueError):
    """A field is missing or malformed; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotConfigured(LookupError):
    """Nothing was saved for this platform yet."""


class NotChecked(RuntimeError):
    """Enabling needs a configuration whose check passed."""


def mask(value: str) -> str:
    """``••••1234`` for a long secret, ``••••`` for a short one (its last four
    characters would be most of it)."""
    return MASK + value[-4:] if len(value) >= 12 else MASK


def associated(kind: str) -> str:
    """What a sealed secret belongs to: moved to another row, it does not open."""
    return f"integration:{kind}"


def seal(keyring: Keyring, kind: str, values: dict[str, str]) -> str | None:
    if not values:
        return None
    plain = json.dumps(values, sort_keys=True).encode()
    return keyring.seal(plain, associated(kind))


def open_secrets(keyring: Keyring, kind: str, sealed: str | None) -> dict[str, str]:
    if not sealed:
        return {}
    values = json.loads(keyring.open(sealed, associated(kind)))
    return {str(k): str(v) for k, v in values.items()}


def _row(session: Session, kind: str) -> Integration | None:
    return session.scalar(
        select(Integration)
        .where(Integration.kind == kind)
        .execution_options(populate_existing=True)
    )


def _check_view(row: Integration | None) -> dict[str, Any] | None:
    if row is None or row.check_status is None:
        return None
    return {
        "status": row.check_status,
        "message": row.check_message,
        "checked_at": iso(row.checked_at),
    }


def view(keyring: Keyring, platform: Platform, row: Integration | None) -> dict:
    """The card of one platform: its fields, the saved values with every secret
    masked, and where it stands (saved, checked, active, enabled)."""
    try:
        secrets = open_secrets(keyring, platform.kind, row.secrets) if row else {}
    except SecretOpenError:
        # Sealed with a key no longer configured: the card still shows that a
        # value is stored (a new save or the old key in the keyring fixes it).
        logger.error("integration.cannot_open", extra={"kind": platform.kind})
        secrets = {f.name: "" for f in platform.fields if f.secret}
    settings = dict(row.settings) if row else {}
    values: dict[str, str] = {}
    for spec in platform.fields:
        if spec.secret:
            if spec.name in secrets:
                values[spec.name] = mask(secrets[spec.name])
        elif spec.name in settings:
            values[spec.name] = settings[spec.name]
    return {
        "kind": platform.kind,
        "category": platform.category,
        "title": platform.title,
        "help_url": platform.help_url,
        "note": platform.note,
        "fields": [
            {
                "name": f.name,
                "label": f.label,
                "secret": f.secret,
                "required": f.required,
                "url": f.url,
                "choices": list(f.choices),
                "placeholder": f.placeholder,
                "generated": f.generated,
            }
            for f in platform.fields
        ],
        "values": values,
        "saved": row is not None,
        "version": row.version if row else 0,
        "active_version": row.active_version if row else None,
        "enabled": bool(row and row.enabled),
        "pending": bool(row and row.version != row.active_version),
        "check": _check_view(row),
        "updated_at": iso(row.updated_at) if row else None,
        "updated_by": row.updated_by if row else None,
    }


def all_views(session: Session, keyring: Keyring) -> list[dict]:
    rows = {r.kind: r for r in session.scalars(select(Integration))}
    return [view(keyring, p, rows.get(kind)) for kind, p in PLATFORMS.items()]


def one_view(session: Session, keyring: Keyring, kind: str) -> dict:
    return view(keyring, PLATFORMS[kind], _row(session, kind))


def _validated(
    platform: Platform,
    values: dict[str, str],
    old_secrets: dict[str, str],
    https_only: bool,
) -> tuple[dict[str, str], dict[str, str]]:
    """The non-secret settings and the secrets to store; ``InvalidForm`` names
    the first field that is wrong. An empty secret keeps the stored one. With
    ``https_only`` (production) an address must be https: the action server
    sends the credentials there."""
    for name in values:
        if platform.field(name) is None:
            raise InvalidForm(name, f"{platform.title} has no such field")
    settings: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for spec in platform.fields:
        value = values.get(spec.name, "").strip()
        if len(value) > MAX_VALUE_LENGTH:
            raise InvalidForm(spec.name, f"longer than {MAX_VALUE_LENGTH} characters")
        if any(ch in value for ch in "\r\n\x00"):
            raise InvalidForm(spec.name, "must be one line")
        if spec.secret and not value:
            value = old_secrets.get(spec.name, "")
        if spec.generated and not value:
            value = random_secrets.token_urlsafe(32)
        if not value:
            if spec.required:
                raise InvalidForm(spec.name, f"required for {platform.title}")
            continue
        if spec.url and not value.startswith(("https://", "http://")):
            raise InvalidForm(spec.name, "must start with https:// or http://")
        if spec.url and https_only and not value.startswith("https://"):
            raise InvalidForm(spec.name, "must start with https:// in production")
        if spec.choices and value not in spec.choices:
            raise InvalidForm(spec.name, f"one of {', '.join(spec.choices)}")
        (secrets if spec.secret else settings)[spec.name] = value
    return settings, secrets


def save(
    session: Session,
    keyring: Keyring,
    kind: str,
    values: dict[str, str],
    actor: str,
    https_only: bool = False,
) -> dict:
    """Stores the form as the next version (not yet active: see ``record_check``)."""
    platform = PLATFORMS[kind]
    row = _row(session, kind)
    try:
        old_secrets = open_secrets(keyring, kind, row.secrets) if row else {}
    except SecretOpenError:
        # No configured key opens them (rotated away too early): they are of
        # no use, so the form needs every required secret typed again.
        logger.error("integration.cannot_open", extra={"kind": kind})
        old_secrets = {}
    settings, secrets = _validated(platform, values, old_secrets, https_only)
    before = {**(row.settings if row else {}), **old_secrets}
    after = {**settings, **secrets}
    changed = sorted(
        name for name in {*before, *after} if before.get(name) != after.get(name)
    )
    now = time.time()
    if row is None:
        row = Integration(kind=kind, enabled=False, version=0)
        session.add(row)
    row.version += 1
    row.settings = settings
    row.secrets = seal(keyring, kind, secrets)
    row.check_status = None
    row.check_message = None
    row.checked_at = None
    row.updated_at = now
    row.updated_by = actor
    session.flush()
    audit.record(
        session,
        actor,
        "integration.save",
        kind,
        {"version": row.version, "fields": changed},
    )
    session.commit()
    logger.info(
        "integration.saved",
        extra={"kind": kind, "version": row.version, "fields": changed, "actor": actor},
    )
    return view(keyring, platform, row)


@dataclass(frozen=True)
class Draft:
    """What a check sends the action server: the saved form, secrets sealed."""

    kind: str
    version: int
    settings: dict[str, str]
    secrets: str | None
    plain_secrets: tuple[str, ...]  # to scrub from the platform's answer


def draft(session: Session, keyring: Keyring, kind: str) -> Draft:
    row = _row(session, kind)
    if row is None:
        raise NotConfigured(kind)
    opened = open_secrets(keyring, kind, row.secrets)
    return Draft(
        kind, row.version, dict(row.settings), row.secrets, tuple(opened.values())
    )


def scrub(message: str, secrets: tuple[str, ...]) -> str:
    """The platform's answer without any of the submitted secrets in it (some
    platforms echo the request)."""
    for value in sorted(secrets, key=len, reverse=True):
        if len(value) >= 4:
            message = message.replace(value, mask(value))
    return message[:500]


def _enable(session: Session, row: Integration, actor: str) -> list[str]:
    """Enables ``row``; one payment provider at a time, so any other enabled one
    is disabled (returned, and audited)."""
    row.enabled = True
    platform = PLATFORMS[row.kind]
    if platform.category != "payments":
        return []
    others = session.scalars(
        select(Integration).where(
            Integration.enabled.is_(True), Integration.kind != row.kind
        )
    ).all()
    disabled = []
    for other in others:
        if PLATFORMS[other.kind].category == "payments":
            other.enabled = False
            disabled.append(other.kind)
            audit.record(
                session, actor, "integration.disable", other.kind, {"by": row.kind}
            )
    return disabled


def record_check(
    session: Session,
    keyring: Keyring,
    checked: Draft,
    status: str,
    message: str,
    actor: str,
) -> dict:
    """The check's result on the version it checked. Passed: that version
    becomes active and enabled. Failed: the previous active one stays."""
    row = _row(session, checked.kind)
    if row is None:
        raise NotConfigured(checked.kind)
    message = scrub(message, checked.plain_secrets)
    current = row.version == checked.version
    activated = status == "ok" and current
    if current:  # saved again meanwhile: the newer form is still unchecked
        row.check_status = status
        row.check_message = message or None
        row.checked_at = time.time()
    detail: dict[str, object] = {
        "version": checked.version,
        "status": status,
        "activated": activated,
    }
    if activated:
        row.active_version = row.version
        row.active_settings = dict(row.settings)
        row.active_secrets = row.secrets
        detail["disabled"] = _enable(session, row, actor)
    audit.record(session, actor, "integration.check", checked.kind, detail)
    session.commit()
    logger.info(
        "integration.checked",
        extra={"kind": checked.kind, "version": checked.version, "status": status},
    )
    return view(keyring, PLATFORMS[checked.kind], row)


def set_enabled(
    session: Session, keyring: Keyring, kind: str, enabled: bool, actor: str
) -> dict:
    row = _row(session, kind)
    if row is None:
        raise NotConfigured(kind)
    if enabled and row.active_version is None:
        raise NotChecked(kind)
    detail: dict[str, object] = {"active_version": row.active_version}
    if enabled:
        detail["disabled"] = _enable(session, row, actor)
    else:
        row.enabled = False
    action = "integration.enable" if enabled else "integration.disable"
    audit.record(session, actor, action, kind, detail)
    session.commit()
    logger.info(action, extra={"kind": kind, "actor": actor})
    return view(keyring, PLATFORMS[kind], row)


def delete(session: Session, kind: str, actor: str) -> None:
    row = _row(session, kind)
    if row is None:
        raise NotConfigured(kind)
    session.delete(row)
    audit.record(session, actor, "integration.delete", kind, {"version": row.version})
    session.commit()
    logger.info("integration.deleted", extra={"kind": kind, "actor": actor})


def feed(session: Session) -> list[dict[str, Any]]:
    """The enabled, checked configurations for the action server: settings in
    clear, secrets sealed (it opens them with the same keyring)."""
    rows = session.scalars(
        select(Integration)
        .where(Integration.enabled.is_(True), Integration.active_version.is_not(None))
        .order_by(Integration.kind)
    ).all()
    return [
        {
            "kind": row.kind,
            "category": PLATFORMS[row.kind].category,
            "version": row.active_version,
            "settings": dict(row.active_settings or {}),
            "secrets": row.active_secrets,
        }
        for row in rows
        if row.kind in PLATFORMS
    ]


def rotate(session: Session, keyring: Keyring) -> int:
    """Seals every stored secret again with the current key (opening it with
    whichever key of the keyring sealed it); returns how many were resealed."""
    resealed = 0
    for row in session.scalars(select(Integration)).all():
        for column in ("secrets", "active_secrets"):
            sealed = getattr(row, column)
            if not sealed or Keyring.sealed_with(sealed) == keyring.current_id:
                continue
            plain = keyring.open(sealed, associated(row.kind))
            setattr(row, column, keyring.seal(plain, associated(row.kind)))
            resealed += 1
    audit.record(
        session,
        "cli",
        "integration.rotate",
        None,
        {"key_id": keyring.current_id, "resealed": resealed},
    )
    session.commit()
    logger.info(
        "integration.rotated",
        extra={"key_id": keyring.current_id, "resealed": resealed},
    )
    return resealed

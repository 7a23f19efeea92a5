"""Users, roles and API keys."""

from __future__ import annotations

import logging
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from easyflow_api.core.passwords import password_problems
from easyflow_api.core.security import (
    burn_password_check,
    hash_api_key,
    hash_password,
    new_api_key,
    verify_password,
)
from easyflow_api.models import ApiKey, User

logger = logging.getLogger(__name__)


class UserConflict(ValueError):
    """The change would break a rule (duplicate name, no admin left)."""


class WeakPassword(ValueError):
    """The password fails the production policy (core.passwords)."""


def check_password(password: str, username: str, production: bool) -> None:
    """Production refuses weak passwords; development takes the schema's
    minimum so demos and tests stay short."""
    if not production:
        return
    problems = password_problems(password, username)
    if problems:
        raise WeakPassword("password is " + "; ".join(problems))


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)).all())


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    *,
    production: bool = False,
) -> User:
    if get_user(session, username) is not None:
        raise UserConflict(f"user {username!r} already exists")
    check_password(password, username, production)
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        display_name=display_name,
        is_active=True,
        created_at=time.time(),
    )
    session.add(user)
    session.flush()
    return user


def _active_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == "admin", User.is_active.is_(True))
        )
        or 0
    )


def update_user(
    session: Session,
    user: User,
    password: str | None,
    role: str | None,
    display_name: str | None,
    is_active: bool | None,
    *,
    production: bool = False,
) -> User:
    losing_admin = (
        user.role == "admin"
        and user.is_active
        and ((role is not None and role != "admin") or is_active is False)
    )
    if losing_admin and _active_admins(session) <= 1:
        raise UserConflict("the last active admin cannot be demoted or disabled")
    if password is not None:
        check_password(password, user.username, production)
        change_password(user, password)
    if role is not None:
        user.role = role
    if display_name is not None:
        user.display_name = display_name
    if is_active is not None:
        user.is_active = is_active
    session.flush()
    return user


def change_password(user: User, password: str) -> None:
    """New hash; every token issued before now stops working (deps checks
    `iat` against `tokens_valid_after`), so a leaked token dies with the
    old password."""
    user.password_hash = hash_password(password)
    user.tokens_valid_after = time.time()


def delete_user(session: Session, user: User) -> None:
    if user.role == "admin" and user.is_active and _active_admins(session) <= 1:
        raise UserConflict("the last active admin cannot be deleted")
    session.delete(user)
    session.flush()


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = get_user(session, username)
    if user is None:
        burn_password_check(password)
        return None
    if not verify_password(user.password_hash, password) or not user.is_active:
        return None
    return user


def ensure_bootstrap_admin(
    session: Session, username: str, password: str | None, development: bool
) -> bool:
    """Creates the first admin when there are no users; True if it did."""
    if password is None:
        return False
    if session.scalar(select(func.count()).select_from(User)):
        return False
    create_user(session, username, password, "admin", display_name=username)
    session.commit()
    # Never the password itself: logs are shipped, kept and read by others.
    # Only where it comes from, so the operator knows where to look.
    source = (
        "the development default documented in api/README.md"
        if development and password == "admin"
        else "EASYFLOW_ADMIN_PASSWORD"
    )
    logger.warning(
        "auth.bootstrap_admin.created",
        extra={"username": username, "password_from": source},
    )
    if development:
        print(
            f"\n*** first admin {username!r} created; its password is {source}. "
            "Change it after logging in (POST /api/auth/password), or set "
            "EASYFLOW_ADMIN_PASSWORD before the first start; production never "
            "creates a default admin. ***\n",
            flush=True,
        )
    return True


def create_api_key(
    session: Session, name: str, role: str, created_by: str
) -> tuple[ApiKey, str]:
    key = new_api_key()
    row = ApiKey(
        name=name,
        role=role,
        key_hash=hash_api_key(key),
        prefix=key[:10],
        created_by=created_by,
        created_at=time.time(),
    )
    session.add(row)
    session.flush()
    return row, key


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)).all())

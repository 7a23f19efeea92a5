"""SQLAlchemy 2 models: analytics projections of Rasa events plus admin data.

Times from Rasa are kept as float epoch seconds (exactly as Rasa sends them);
`day` columns hold the UTC date so grouping is the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Conversation(Base):
    """One Rasa session of a sender: from one `session_started` to the next."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_sender_started", "sender_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[float] = mapped_column(Float)
    day: Mapped[str] = mapped_column(String(10), index=True)
    last_event_at: Mapped[float] = mapped_column(Float)
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    fallbacks: Mapped[int] = mapped_column(Integer, default=0)
    handoff: Mapped[bool] = mapped_column(Boolean, default=False)
    csat: Mapped[int | None] = mapped_column(Integer, nullable=True)
    first_user_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    first_reply_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False)


class Event(Base):
    """Every ingested Rasa event; `hash` makes redelivery idempotent."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_conversation_ts", "conversation_id", "timestamp"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=True
    )
    sender_id: Mapped[str] = mapped_column(String(255), index=True)
    timestamp: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(16), nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    text_norm: Mapped[str | None] = mapped_column(Text, nullable=True)
    intent: Mapped[str | None] = mapped_column(String(128), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    action: Mapped[str | None] = mapped_column(String(128), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    slot_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    slot_value: Mapped[object | None] = mapped_column(JSON, nullable=True)
    entities: Mapped[object | None] = mapped_column(JSON, nullable=True)


class Handoff(Base):
    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    sender_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), index=True)
    operator: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # Who took it through the api (a username, or key:<name>): only they or an
    # admin may reply or release. None when taken outside the api.
    operator_username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    requested_at: Mapped[float] = mapped_column(Float)
    taken_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    closed_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Payment(Base):
    """A payment link sent in a conversation (slot `payment_link`) and its fate."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("conversation_id", "order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    sender_id: Mapped[str] = mapped_column(String(255), index=True)
    order_id: Mapped[str] = mapped_column(String(128))
    link_sent_at: Mapped[float] = mapped_column(Float)
    paid_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class ConversationTag(Base):
    __tablename__ = "conversation_tags"
    __table_args__ = (UniqueConstraint("conversation_id", "tag"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    tag: Mapped[str] = mapped_column(String(64), index=True)


class InboxItem(Base):
    """A misunderstood shopper message, one row per normalised text."""

    __tablename__ = "inbox_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    text_norm: Mapped[str] = mapped_column(String(512), unique=True)
    predicted_intent: Mapped[str | None] = mapped_column(String(128), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True
    )
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    label: Mapped[str | None] = mapped_column(String(128), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[float] = mapped_column(Float)


class IngestCheckpoint(Base):
    """Last processed position per source (SQL broker: the events table id)."""

    __tablename__ = "ingest_checkpoints"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[float] = mapped_column(Float)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float)
    # Tokens issued before this moment are refused (set on password change).
    tokens_valid_after: Mapped[float | None] = mapped_column(Float, nullable=True)


class RevokedToken(Base):
    """Access tokens ended by logout, kept until they would have expired."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class ApiKey(Base):
    """API keys are random; only their SHA-256 is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_used_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(255), nullable=True)
    detail: Mapped[object | None] = mapped_column(JSON, nullable=True)


class ShopSettings(Base):
    """The merchant's shop settings: one row (id 1), absent until an admin
    first saves; until then the api answers defaults from its environment.
    ``version`` grows by one on every save, so a save made from an older
    version is refused instead of overwriting a colleague's change."""

    __tablename__ = "shop_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    greeting: Mapped[dict[str, str]] = mapped_column(JSON)
    timezone: Mapped[str] = mapped_column(String(64))
    working_hours: Mapped[dict[str, str]] = mapped_column(JSON)
    return_window_days: Mapped[int] = mapped_column(Integer)
    languages: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(String(64))


class KnowledgeDocument(Base):
    """One markdown document of the knowledge base in one language, as the
    fallback answers from it. ``version`` grows by one on every change (an edit
    made from an older one is refused); a deleted document keeps its row and
    history (``deleted``), so creating it again continues the history."""

    __tablename__ = "knowledge_documents"
    __table_args__ = (
        UniqueConstraint("language", "name", name="uq_knowledge_language_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(String(64))


class KnowledgeVersion(Base):
    """Every version of a document as saved: what history shows and restores."""

    __tablename__ = "knowledge_versions"
    __table_args__ = (
        UniqueConstraint(
            "document_id", "version", name="uq_knowledge_version_document"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("knowledge_documents.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    # seed | create | edit | upload | restore | delete
    action: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(64))


class Integration(Base):
    """One platform's connection (services/integrations.py). The form as last
    saved (``settings`` and the sealed ``secrets``) is active only once a check
    through the action server passed: then it is copied to ``active_*``, which is
    what the action server uses while ``enabled``. Secrets are only ever stored
    sealed (core/secretbox.py, the kind as associated data)."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer)
    settings: Mapped[dict[str, str]] = mapped_column(JSON)
    secrets: Mapped[str | None] = mapped_column(Text, nullable=True)
    active_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active_settings: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    active_secrets: Mapped[str | None] = mapped_column(Text, nullable=True)
    check_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    check_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    checked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(String(64))

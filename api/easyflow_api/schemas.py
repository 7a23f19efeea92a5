"""Request and response bodies (pydantic 2), named after the contract's fields."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Role = Literal["admin", "analyst", "operator"]
Username = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
IntentName = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_]+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# auth -----------------------------------------------------------------------


class LoginRequest(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class PasswordChange(Strict):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=8, max_length=1024)


class TokenPublic(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    username: str
    role: Role


class Me(BaseModel):
    username: str
    role: Role


# users and keys ---------------------------------------------------------------


class UserCreate(Strict):
    username: str = Username
    password: str = Field(min_length=8, max_length=1024)
    role: Role
    display_name: str | None = Field(default=None, max_length=128)


class UserUpdate(Strict):
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    role: Role | None = None
    display_name: str | None = Field(default=None, max_length=128)
    is_active: bool | None = None


class UserPublic(BaseModel):
    username: str
    role: Role
    display_name: str | None
    is_active: bool
    created_at: str


class ApiKeyCreate(Strict):
    name: str = Field(min_length=1, max_length=128)
    role: Role


class ApiKeyCreated(BaseModel):
    id: int
    key: str
    name: str
    role: Role


class ApiKeyPublic(BaseModel):
    id: int
    name: str
    role: Role
    prefix: str
    created_by: str
    created_at: str
    revoked: bool
    last_used_at: str | None = Field(
        description="when the key was last accepted, to the minute; null: never"
    )


class AuditPublic(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    target: str | None
    detail: dict[str, object] | None


class AuditFacets(BaseModel):
    actors: list[str]
    actions: list[str]


# health and settings ------------------------------------------------------------


class Health(BaseModel):
    status: str


class Check(BaseModel):
    ok: bool
    detail: str


class HealthDetailed(BaseModel):
    status: Literal["ok", "degraded"]
    checks: dict[str, Check]


class Configured(BaseModel):
    name: str
    configured: bool


class LlmSettings(BaseModel):
    answerer: str
    configured: bool


class SettingsPublic(BaseModel):
    channels: list[Configured]
    integrations: list[Configured]
    payments: list[Configured]
    llm: LlmSettings
    secrets: dict[str, Literal["present", "absent"]]


# analytics ----------------------------------------------------------------------


class Overview(BaseModel):
    conversations: int
    messages: int
    containment_rate: float | None
    fallback_rate: float | None
    handoff_rate: float | None
    avg_turns: float | None
    avg_first_reply_ms: float | None
    csat_avg: float | None
    csat_count: int
    payment_links: int
    payments_paid: int
    payment_conversion: float | None


class DailyRow(BaseModel):
    day: str
    channel: str
    conversations: int


class IntentRow(BaseModel):
    intent: str
    count: int
    avg_confidence: float | None


class LowConfidenceRow(BaseModel):
    conversation_id: int
    text: str | None
    intent: str | None
    confidence: float | None
    timestamp: str
    fallback: bool


# conversations --------------------------------------------------------------------


class ConversationPublic(BaseModel):
    id: int
    sender_id: str
    channel: str | None
    language: str | None
    started_at: str
    last_event_at: str
    turns: int
    fallbacks: int
    handoff: bool
    csat: int | None
    reviewed: bool
    tags: list[str]


class ConversationPage(BaseModel):
    items: list[ConversationPublic]
    total: int


class TranscriptEvent(BaseModel):
    timestamp: str
    actor: Literal["user", "bot", "operator", "action"]
    text: str | None
    intent: str | None
    confidence: float | None
    action: str | None


class ConversationDetail(ConversationPublic):
    events: list[TranscriptEvent]


class TagRequest(Strict):
    tag: str = Field(min_length=1, max_length=64, pattern=r"^[^\s/][^/]*$")


class ReviewRequest(Strict):
    reviewed: bool


# inbox -------------------------------------------------------------------------


class InboxItemPublic(BaseModel):
    id: int
    text: str
    predicted_intent: str | None
    confidence: float | None
    conversation_id: int | None
    language: str | None
    label: str | None
    status: Literal["open", "labelled", "dismissed"]
    occurrences: int
    created_at: str


class LabelRequest(Strict):
    intent: str = IntentName


# handoffs ------------------------------------------------------------------------


class HandoffPublic(BaseModel):
    id: int
    conversation_id: int
    sender_id: str
    channel: str | None
    language: str | None
    status: Literal["waiting", "active", "closed"]
    operator: str | None
    requested_at: str
    taken_at: str | None
    closed_at: str | None
    last_message: str | None


class HandoffMessage(BaseModel):
    timestamp: str
    actor: Literal["user", "bot", "operator"]
    text: str


class HandoffDetail(HandoffPublic):
    messages: list[HandoffMessage]


class OperatorMessage(Strict):
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)
    ]

"""Request and response bodies (pydantic 2), named after the contract's fields."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from easyflow_api.core.hours import check_timezone, normalise_day

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
    order_updates_sent: int
    order_updates_opt_ins: int
    order_updates_opt_outs: int
    # Shoppers told of an order update: share of their conversations asking
    # "where is my order" before the first update and after, and the questions
    # the updates saved (services/analytics.py: status_questions).
    status_question_rate_before_updates: float | None
    status_question_rate_after_updates: float | None
    status_questions_prevented: int | None


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


# shop settings ---------------------------------------------------------------------

Language = Literal["ru", "en"]
# Control characters other than a line break would reach shoppers' screens as
# invisible text; a name is one line.
_CONTROL = {chr(c) for c in range(32)} | {chr(127)}


def _one_line(value: str) -> str:
    if any(ch in _CONTROL for ch in value):
        raise ValueError("must be one line without control characters")
    return value


def _text(value: str) -> str:
    if any(ch in _CONTROL - {"\n"} for ch in value.replace("\r\n", "\n")):
        raise ValueError("must not contain control characters")
    return value.replace("\r\n", "\n")


ShopName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
    AfterValidator(_one_line),
]
GreetingText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=500),
    AfterValidator(_text),
]
DayHours = Annotated[
    str,
    Field(
        max_length=32,
        description="HH:MM-HH:MM in the shop's time zone (24:00 = midnight) "
        "or closed",
        examples=["09:00-18:00", "closed"],
    ),
    AfterValidator(normalise_day),
]
Version = Annotated[int, Field(ge=0, le=2**31 - 1, strict=True)]


class Greeting(Strict):
    """What the widget shows a shopper first, per language; empty: nothing."""

    ru: GreetingText = ""
    en: GreetingText = ""


class WeekHours(Strict):
    mon: DayHours
    tue: DayHours
    wed: DayHours
    thu: DayHours
    fri: DayHours
    sat: DayHours
    sun: DayHours


class WorkingHours(Strict):
    timezone: str = Field(
        min_length=1, max_length=64, description="IANA name, e.g. Europe/Moscow"
    )
    days: WeekHours

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_timezone(value)


class ShopSettingsBase(Strict):
    name: ShopName
    greeting: Greeting
    working_hours: WorkingHours
    return_window_days: int = Field(ge=1, le=365, strict=True)
    languages: list[Language] = Field(min_length=1, max_length=2)

    @field_validator("languages")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each language at most once")
        return value


class ShopSettingsUpdate(ShopSettingsBase):
    version: Version = Field(
        description="the version these changes were made from (0: never saved); "
        "another version answers 409 and changes nothing"
    )


class ShopSettingsPublic(BaseModel):
    version: int = Field(description="0 until the first save: defaults")
    name: str | None = Field(
        description="null: not set (EASYFLOW_SHOP_NAME unset, never saved)"
    )
    greeting: Greeting
    working_hours: WorkingHours
    return_window_days: int
    languages: list[Language]
    updated_at: str | None
    updated_by: str | None


class OperatorHours(BaseModel):
    working_now: bool
    until: str | None = Field(description="end of the current shift (shop's zone)")
    next_at: str | None = Field(description="start of the next shift, when not now")
    timezone: str


class PublicShop(BaseModel):
    """What the web chat widget shows and the bot quotes: no setting beyond it."""

    name: str | None
    greeting: dict[str, str]
    languages: list[Language]
    return_window_days: int
    operators: OperatorHours


class FailedNotice(BaseModel):
    """A proactive message the action server gave up on (api/README.md)."""

    id: int
    sender_id: str
    order_id: str
    kind: str  # the EXTERNAL_* intent: payment received, order status changed
    order_state: str | None
    attempts: int
    last_error: str | None
    created_at: str | None


class NoticeRetry(BaseModel):
    id: int
    sent: bool


class ShopperAttachment(BaseModel):
    """A photo or file the shopper sent, and the return or order it is on."""

    id: str
    kind: str  # photo, document
    channel: str
    mime_type: str
    size: int
    order_id: str | None
    return_id: str | None
    created_at: str | None


# knowledge base ---------------------------------------------------------------

KNOWLEDGE_MAX_BYTES = 64 * 1024
KnowledgeName = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="the file name without .md: lowercase letters, digits, - and _",
    ),
]


def _markdown(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if len(value.encode()) > KNOWLEDGE_MAX_BYTES:
        raise ValueError(f"at most {KNOWLEDGE_MAX_BYTES} bytes of UTF-8")
    if any(ch < " " and ch not in "\n\t" for ch in value):
        raise ValueError("text only: no control characters")
    if not value.strip():
        raise ValueError("empty")
    return value


Markdown = Annotated[str, AfterValidator(_markdown)]


class KnowledgeCreate(Strict):
    name: KnowledgeName
    content: Markdown


class KnowledgeUpdate(Strict):
    content: Markdown
    version: Version = Field(
        description="the version the editor started from; another answers 409 "
        "and changes nothing"
    )


class KnowledgeRestore(Strict):
    version: Version = Field(description="the current version, as for an edit")
    restore: Version = Field(description="the version whose content comes back")


class KnowledgeSummary(BaseModel):
    language: Language
    name: str
    title: str
    version: int
    size: int
    updated_at: str | None
    updated_by: str


class KnowledgeDocumentPublic(KnowledgeSummary):
    content: str


class KnowledgeHistoryEntry(BaseModel):
    version: int
    action: str
    title: str
    size: int
    at: str | None
    actor: str


class KnowledgeVersionPublic(BaseModel):
    language: Language
    name: str
    version: int
    action: str
    title: str
    content: str
    at: str | None
    actor: str


class KnowledgeTry(Strict):
    question: str = Field(min_length=1, max_length=500)
    language: Language


class KnowledgePassage(BaseModel):
    source: str
    document: str
    title: str
    text: str


class KnowledgeTryResult(BaseModel):
    answer: str | None = Field(description="null: nothing relevant, as the shopper")
    answerer: str
    sources: list[str]
    passages: list[KnowledgePassage]


class IntegrationSave(Strict):
    """The form of one platform: field name (its environment variable) to value.
    A secret left empty keeps the stored one; other empty fields are unset."""

    values: dict[str, str] = Field(max_length=20)


class IntegrationField(BaseModel):
    name: str
    label: str
    secret: bool
    required: bool
    url: bool
    choices: list[str]
    placeholder: str
    generated: bool = Field(description="a secret the api makes when none is stored")


class IntegrationCheck(BaseModel):
    status: Literal["ok", "error", "unreachable"]
    message: str | None
    checked_at: str | None


class IntegrationPublic(BaseModel):
    """One platform's card; secrets appear only masked (``••••1234``)."""

    kind: str
    category: Literal["orders", "payments", "channels"]
    title: str
    help_url: str
    note: str = Field(description="what is set outside the page; empty: nothing")
    fields: list[IntegrationField]
    values: dict[str, str]
    saved: bool
    version: int = Field(description="of the saved form; 0: never saved")
    active_version: int | None = Field(
        description="the version whose check passed, in use while enabled"
    )
    enabled: bool
    pending: bool = Field(description="the saved form is not the active one yet")
    check: IntegrationCheck | None
    updated_at: str | None
    updated_by: str | None

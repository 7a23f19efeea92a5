"""One lazy factory for everything actions talk to, built from ``Settings`` once.

Nothing touches the disk or network at import time: the first action that needs a
service builds them all. Tests build their own ``Services`` with ``configure``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property

from actions.access import TOKEN_FILE, local_token
from actions.attachments.store import AttachmentStore
from actions.integrations.base import OrderSource
from actions.integrations.registry import build_sources
from actions.integrations.router import RoutingOrderSource
from actions.knowledge.answerers import OpenAICompatibleAnswerer
from actions.knowledge.budget import LlmBudget, RedisDayCounter
from actions.knowledge.lexicon import Lexicon
from actions.knowledge.published import PublishedKnowledge
from actions.knowledge.retrieval import LEXICON_FILE, KnowledgeIndex
from actions.knowledge.service import FallbackService, RedisAnswerCache
from actions.payments.base import PaymentProvider
from actions.payments.ledger import PaymentLedger
from actions.payments.registry import build_provider
from actions.payments.settlement import Settlement
from actions.proactive.notifier import RasaNotifier
from actions.proactive.order_updates import Followers, OrderUpdates
from actions.proactive.queue import NoticeQueue
from actions.proactive.quiet_hours import QuietHours
from actions.settings import Providers, Settings
from actions.shop_profile import ShopProfile
from actions.support_log import SupportLog
from actions.verification.codes import OneTimeCodes
from actions.verification.factory import build_code_sender, build_codes
from actions.verification.senders import CodeSender


@dataclass
class Services:
    settings: Settings
    orders: OrderSource
    payments: PaymentProvider
    support: SupportLog
    # How one-time codes reach shoppers; None: as EASYFLOW_CODE_SENDER says when
    # it needs no credentials (the file sender), else no code factor.
    code_sender: CodeSender | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, providers: Providers | None = None
    ) -> Services:
        """Builds the clients; ``providers`` read from the process environment
        when not given (the demo store and provider need none)."""
        if providers is None:
            providers = Providers.from_env(settings)
        orders, _ = build_sources(
            settings.order_sources, settings.demo_store_path, providers.marketplaces
        )
        if settings.live_integrations and not isinstance(orders, RoutingOrderSource):
            # Marketplaces connected on the dashboard join this router later.
            orders = RoutingOrderSource([orders])
        payments = build_provider(
            settings.payment_provider,
            settings.data_dir,
            settings.public_url,
            orders,
            providers.payment,
        )
        support = SupportLog(settings.database_url or settings.support_log_path)
        sender = build_code_sender(settings, providers.smtp)
        return cls(settings, orders, payments, support, sender)

    @cached_property
    def ledger(self) -> PaymentLedger:
        return PaymentLedger(
            self.settings.database_url
            or self.settings.data_dir / "payments_ledger.sqlite"
        )

    @cached_property
    def notices(self) -> NoticeQueue:
        """Proactive notices (payments, order updates), kept and retried until
        Rasa takes them."""
        notifier = RasaNotifier(self.settings.rasa_url, self.settings.rasa_token)
        return NoticeQueue(
            self.settings.database_url or self.settings.data_dir / "notices.sqlite",
            notifier,
        )

    @cached_property
    def order_updates(self) -> OrderUpdates:
        """Who follows which order, and telling them when it moves on."""
        followers = Followers(
            self.settings.database_url
            or self.settings.data_dir / "order_followers.sqlite"
        )
        quiet = QuietHours.parse(self.settings.quiet_hours, self.settings.shop_timezone)
        return OrderUpdates(followers, self.notices, quiet)

    @cached_property
    def attachments(self) -> AttachmentStore:
        """Photos and files shoppers sent, kept for operators and returns."""
        return AttachmentStore(
            self.settings.database_url or self.settings.data_dir / "attachments.sqlite",
            max_bytes=self.settings.attachment_max_bytes,
            per_day=self.settings.attachments_per_day,
        )

    @cached_property
    def shop_profile(self) -> ShopProfile:
        """The Shop page's return window and operators' hours (the api)."""
        return ShopProfile(self.settings.api_url, self.settings.return_window_days)

    @cached_property
    def codes(self) -> OneTimeCodes | None:
        """One-time codes for orders without a phone; None when no sender is set."""
        sender = self.code_sender or build_code_sender(self.settings)
        return build_codes(self.settings, sender)

    @cached_property
    def settlement(self) -> Settlement:
        return Settlement(self.ledger, self.orders, self.notices)

    @cached_property
    def knowledge(self) -> KnowledgeIndex:
        return KnowledgeIndex.from_dir(
            self.settings.knowledge_dir, cache_dir=self.settings.knowledge_cache_dir
        )

    @cached_property
    def published_knowledge(self) -> PublishedKnowledge:
        """The dashboard's knowledge base, swapped into ``fallback`` when it
        changes (the api, with the action token); off without an api."""
        settings = self.settings
        token = settings.action_token
        if settings.api_url and not token:
            token = local_token(settings.data_dir / TOKEN_FILE)
        return PublishedKnowledge(
            settings.api_url,
            token,
            self.fallback,
            Lexicon.load(settings.knowledge_dir / LEXICON_FILE),
            settings.knowledge_cache_dir,
        )

    @cached_property
    def fallback(self) -> FallbackService:
        settings = self.settings
        llm = None
        if settings.llm_backend in ("openai", "local"):
            llm = OpenAICompatibleAnswerer(
                settings.llm_base_url,
                settings.llm_api_key,
                settings.llm_model,
                name=settings.llm_backend,
            )
        cache = RedisAnswerCache(settings.redis_url) if settings.redis_url else None
        counter = RedisDayCounter(settings.redis_url) if settings.redis_url else None
        return FallbackService(
            self.knowledge,
            llm=llm,
            llm_timeout_s=settings.llm_timeout_s,
            budget_s=settings.fallback_budget_s,
            cache=cache,
            budget=LlmBudget(
                settings.llm_max_per_conversation, settings.llm_max_per_day, counter
            ),
        )


_lock = threading.Lock()
_services: Services | None = None


def get_services() -> Services:
    global _services
    with _lock:
        if _services is None:
            _services = Services.from_settings(Settings.from_env())
        return _services


def configure(services: Services | None) -> None:
    """Replaces the process-wide services (start-up and tests)."""
    global _services
    with _lock:
        _services = services

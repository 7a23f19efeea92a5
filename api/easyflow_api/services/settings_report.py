"""Which channels, integrations and providers are configured: presence of their
environment variables only, never their values."""

from __future__ import annotations

from collections.abc import Mapping

CHANNELS = {
    "telegram": ("TELEGRAM_TOKEN", "TELEGRAM_SECRET_TOKEN"),
    "vk": ("VK_TOKEN", "VK_GROUP_ID", "VK_SECRET", "VK_CONFIRMATION"),
    "whatsapp": (
        "WHATSAPP_ACCESS_TOKEN",
        "WHATSAPP_PHONE_NUMBER_ID",
        "WHATSAPP_APP_SECRET",
        "WHATSAPP_VERIFY_TOKEN",
    ),
    "viber": ("VIBER_AUTH_TOKEN",),
    "alice": ("ALICE_SKILL_ID",),
}
INTEGRATIONS = {
    "wildberries": ("WB_API_TOKEN",),
    "ozon": ("OZON_CLIENT_ID", "OZON_API_KEY"),
    "bitrix24": ("BITRIX24_WEBHOOK_URL",),
    "shopify": ("SHOPIFY_SHOP_URL", "SHOPIFY_ACCESS_TOKEN"),
}
PAYMENTS = {
    "yookassa": ("YOOKASSA_SHOP_ID", "YOOKASSA_SECRET_KEY"),
    "tbank": ("TBANK_TERMINAL_KEY", "TBANK_PASSWORD"),
    "sber": ("SBER_USERNAME", "SBER_PASSWORD", "SBER_CALLBACK_TOKEN"),
    "stripe": ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"),
}
LLM_VARS = ("EASYFLOW_LLM_BASE_URL", "EASYFLOW_LLM_MODEL", "EASYFLOW_LLM_API_KEY")
OTHER_SECRETS = (
    "EASYFLOW_API_SECRET",
    "EASYFLOW_RASA_TOKEN",
    "EASYFLOW_ADMIN_PASSWORD",
    "EASYFLOW_API_METRICS_TOKEN",
    "EASYFLOW_REDIS_URL",
    "EASYFLOW_API_DATABASE_URL",
    "EASYFLOW_EVENTS_DATABASE_URL",
    "EASYFLOW_RABBITMQ_URL",
)


def _present(env: Mapping[str, str], name: str) -> bool:
    return bool(env.get(name, "").strip())


def _group(env: Mapping[str, str], group: dict[str, tuple[str, ...]]) -> list[dict]:
    return [
        {"name": name, "configured": all(_present(env, v) for v in names)}
        for name, names in group.items()
    ]


def report(env: Mapping[str, str]) -> dict[str, object]:
    """The report for an environment (core.config.environment() when serving)."""
    answerer = env.get("EASYFLOW_LLM_BACKEND", "").strip() or "extractive"
    llm_configured = answerer == "extractive" or all(
        _present(env, v) for v in LLM_VARS[:2]
    )
    names = [
        *(
            v
            for group in (CHANNELS, INTEGRATIONS, PAYMENTS)
            for vs in group.values()
            for v in vs
        ),
        *LLM_VARS,
        *OTHER_SECRETS,
    ]
    return {
        "channels": _group(env, CHANNELS),
        "integrations": _group(env, INTEGRATIONS),
        "payments": _group(env, PAYMENTS),
        "llm": {"answerer": answerer, "configured": llm_configured},
        "secrets": {
            name: "present" if _present(env, name) else "absent"
            for name in sorted(set(names))
        },
    }

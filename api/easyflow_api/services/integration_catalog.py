"""The platforms the Integrations page connects, and exactly the fields each one
needs. Field names are the environment variables the action server already
reads (``actions/integrations/registry.py``, ``actions/payments/registry.py``),
so a saved integration configures the same client an ``.env`` would. Push
events of a shop platform (SHOPIFY_WEBHOOK_SECRET, BITRIX24_EVENT_TOKEN) are
routes the action server opens at start, so they stay environment variables;
a shop connected here is polled for order updates instead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Category = Literal["orders", "payments", "channels"]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    secret: bool = False
    required: bool = True
    url: bool = False
    choices: tuple[str, ...] = ()
    # Shown greyed as the value used when left empty.
    placeholder: str = ""
    # A secret the api makes itself when none is stored (a webhook's secret).
    generated: bool = False


@dataclass(frozen=True)
class Platform:
    kind: str
    category: Category
    title: str
    # Where the merchant finds the values.
    help_url: str
    fields: tuple[FieldSpec, ...]
    # What the merchant does outside this page (a webhook set in a console).
    note: str = ""

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


def _api_url(prefix: str, default: str) -> FieldSpec:
    return FieldSpec(
        f"{prefix}_API_URL",
        "Адрес API (для песочницы)",
        required=False,
        url=True,
        placeholder=default,
    )


PLATFORMS: dict[str, Platform] = {
    p.kind: p
    for p in (
        Platform(
            "wildberries",
            "orders",
            "Wildberries",
            "https://dev.wildberries.ru/openapi/api-information",
            (
                FieldSpec("WB_API_TOKEN", "Токен API (категория «Маркетплейс»)", True),
                FieldSpec(
                    "WB_MARKETPLACE_URL",
                    "Адрес API (для песочницы)",
                    required=False,
                    url=True,
                    placeholder="https://marketplace-api.wildberries.ru",
                ),
            ),
        ),
        Platform(
            "ozon",
            "orders",
            "Ozon",
            "https://docs.ozon.ru/api/seller/#section/Kak-poluchit-dostup-k-Seller-API",
            (
                FieldSpec("OZON_CLIENT_ID", "Client-Id"),
                FieldSpec("OZON_API_KEY", "API-ключ", True),
                _api_url("OZON", "https://api-seller.ozon.ru"),
            ),
        ),
        Platform(
            "bitrix24",
            "orders",
            "Битрикс24",
            "https://apidocs.bitrix24.ru/local-integrations/local-webhooks.html",
            (
                # The incoming webhook's address holds its code: a secret.
                FieldSpec(
                    "BITRIX24_WEBHOOK_URL",
                    "Адрес входящего вебхука",
                    True,
                    url=True,
                    placeholder="https://<портал>/rest/<id>/<код>/",
                ),
                FieldSpec(
                    "BITRIX24_ENTITY",
                    "Где заказы: order (магазин) или deal (сделки CRM)",
                    required=False,
                    choices=("order", "deal"),
                    placeholder="order",
                ),
            ),
        ),
        Platform(
            "shopify",
            "orders",
            "Shopify",
            "https://help.shopify.com/en/manual/apps/app-types/custom-apps",
            (
                FieldSpec(
                    "SHOPIFY_SHOP_URL",
                    "Адрес магазина",
                    url=True,
                    placeholder="https://<shop>.myshopify.com",
                ),
                FieldSpec("SHOPIFY_ACCESS_TOKEN", "Admin API access token", True),
            ),
        ),
        Platform(
            "yookassa",
            "payments",
            "ЮKassa",
            "https://yookassa.ru/my/merchant/integration/api-keys",
            (
                FieldSpec("YOOKASSA_SHOP_ID", "shopId"),
                FieldSpec("YOOKASSA_SECRET_KEY", "Секретный ключ", True),
                _api_url("YOOKASSA", "https://api.yookassa.ru/v3"),
            ),
        ),
        Platform(
            "tbank",
            "payments",
            "Т-Банк (Т-Касса)",
            "https://www.tbank.ru/kassa/dev/payments/",
            (
                FieldSpec("TBANK_TERMINAL_KEY", "TerminalKey"),
                FieldSpec("TBANK_PASSWORD", "Пароль терминала", True),
                _api_url("TBANK", "https://securepay.tinkoff.ru/v2"),
            ),
        ),
        Platform(
            "sber",
            "payments",
            "СберБанк (эквайринг)",
            "https://ecomtest.sberbank.ru/doc",
            (
                FieldSpec("SBER_USERNAME", "Логин API (…-api)"),
                FieldSpec("SBER_PASSWORD", "Пароль API", True),
                FieldSpec(
                    "SBER_CALLBACK_TOKEN",
                    "Токен callback-уведомлений",
                    True,
                    required=False,
                ),
                _api_url("SBER", "https://securepayments.sberbank.ru/payment/rest"),
            ),
        ),
        Platform(
            "stripe",
            "payments",
            "Stripe",
            "https://dashboard.stripe.com/apikeys",
            (
                FieldSpec("STRIPE_SECRET_KEY", "Secret key (sk_…)", True),
                FieldSpec("STRIPE_WEBHOOK_SECRET", "Webhook signing secret", True),
                _api_url("STRIPE", "https://api.stripe.com"),
            ),
        ),
        Platform(
            "telegram",
            "channels",
            "Telegram",
            "https://core.telegram.org/bots/features#botfather",
            (
                FieldSpec("TELEGRAM_TOKEN", "Токен бота от @BotFather", True),
                FieldSpec(
                    "TELEGRAM_WEBHOOK_URL",
                    "Адрес вебхука",
                    url=True,
                    placeholder="https://<ваш-домен>/webhooks/telegram/webhook",
                ),
                # The connector compares it with every update's header.
                FieldSpec(
                    "TELEGRAM_SECRET_TOKEN",
                    "Секрет вебхука (создаётся сам)",
                    True,
                    required=False,
                    generated=True,
                ),
                FieldSpec(
                    "TELEGRAM_API_URL",
                    "Адрес Bot API (для своего сервера)",
                    required=False,
                    url=True,
                    placeholder="https://api.telegram.org",
                ),
            ),
        ),
        Platform(
            "vk",
            "channels",
            "ВКонтакте",
            "https://dev.vk.com/ru/api/callback/getting-started",
            (
                FieldSpec(
                    "VK_TOKEN", "Ключ доступа сообщества (право «сообщения»)", True
                ),
                FieldSpec("VK_GROUP_ID", "ID сообщества (число)"),
                FieldSpec("VK_SECRET", "Секретный ключ Callback API", True),
                FieldSpec("VK_CONFIRMATION", "Строка, которую должен вернуть сервер"),
                _api_url("VK", "https://api.vk.com"),
            ),
            note=(
                "Когда проверка пройдёт, добавьте сервер в сообществе: Управление → "
                "Работа с API → Callback API (VK сразу спросит строку "
                "подтверждения, её отдаст бот). Адрес "
                "https://<ваш-домен>/webhooks/vk/webhook, "
                "версия API 5.199, тот же секретный ключ; включите событие "
                "«Входящее сообщение». Проверка вызывает groups.getById."
            ),
        ),
        Platform(
            "whatsapp",
            "channels",
            "WhatsApp",
            "https://developers.facebook.com/docs/whatsapp/cloud-api/get-started",
            (
                FieldSpec(
                    "WHATSAPP_ACCESS_TOKEN",
                    "Постоянный токен доступа (System User)",
                    True,
                ),
                FieldSpec("WHATSAPP_PHONE_NUMBER_ID", "Phone number ID"),
                FieldSpec("WHATSAPP_APP_SECRET", "App Secret приложения", True),
                FieldSpec(
                    "WHATSAPP_VERIFY_TOKEN",
                    "Verify token (тот же, что в консоли Meta)",
                    True,
                ),
                _api_url("WHATSAPP", "https://graph.facebook.com"),
            ),
            note=(
                "Когда проверка пройдёт, задайте вебхук в Meta for Developers: "
                "приложение → WhatsApp → Configuration. Callback URL https://<ваш-домен>/webhooks/"
                "whatsapp/webhook, тот же verify token; подпишите поле messages. "
                "Проверка читает номер через Graph API."
            ),
        ),
        Platform(
            "viber",
            "channels",
            "Viber",
            "https://creators.viber.com/docs/bots-api/getting-started/",
            (
                FieldSpec("VIBER_AUTH_TOKEN", "Токен бота", True),
                FieldSpec("VIBER_NAME", "Имя отправителя (до 28 символов)"),
                FieldSpec(
                    "VIBER_WEBHOOK_URL",
                    "Адрес вебхука",
                    url=True,
                    placeholder="https://<ваш-домен>/webhooks/viber/webhook",
                ),
                FieldSpec(
                    "VIBER_AVATAR",
                    "Аватар отправителя (адрес картинки)",
                    required=False,
                    url=True,
                ),
                _api_url("VIBER", "https://chatapi.viber.com"),
            ),
            note=(
                "Проверка регистрирует вебхук сама (set_webhook): Viber сразу "
                "обращается к адресу, поэтому бот должен уже работать."
            ),
        ),
        Platform(
            "alice",
            "channels",
            "Алиса (Яндекс Диалоги)",
            "https://yandex.ru/dev/dialogs/alice/doc/ru/",
            (
                # The connector compares it with every request's session.skill_id.
                FieldSpec("ALICE_SKILL_ID", "ID навыка", True),
            ),
            note=(
                "У Алисы нет API для проверки: проверяется только форма, а навык "
                "Яндекс проверит, когда вызовет вебхук. Адрес https://<ваш-домен>"
                "/webhooks/alice/webhook задают в консоли Яндекс Диалогов."
            ),
        ),
    )
}

"""Questions about another company's service asked in shop words.

"как отследить посылку с AliExpress", "my doordash order is late", «промокод на
Яндекс Еду»: every word but the brand is an order, delivery or promo word, so the
classifier answers as if the shopper asked about this shop. A message that names
a well-known other shop, delivery, taxi, streaming, travel, telecom or government
service, and none of the marketplaces this shop sells on, is out of scope: the
fallback then says what the assistant can do and offers a person.

The list was written from general knowledge of services Russian and English
speaking shoppers use (it includes names the shopper dev set mentions); a shop that
sells on one of them removes it from ``OTHER_SERVICES``.
"""

from __future__ import annotations

import re
from collections.abc import Collection

OUT_OF_SCOPE = "out_of_scope"
# The shop's own requests: only these are read as "about another company" when
# one is named. Asking for a person, small talk and any intent of a model trained
# on other data (a general assistant where "book an Uber" is a task) stay.
SHOP_INTENTS = (
    "order_status",
    "my_orders",
    "cancel_order",
    "change_delivery",
    "delivery_info",
    "return_item",
    "exchange_item",
    "refund_status",
    "payment_methods",
    "pay_order",
    "payment_problem",
    "product_availability",
    "promo_code",
    "stop_updates",
    "complaint",
)
OTHER_SERVICES = [
    # marketplaces and shops this shop does not sell through
    r"ali ?express",
    r"алиэкспресс",
    r"али(?= |$|\?)",
    r"amazon",
    r"амазон",
    r"ebay",
    r"lamoda",
    r"ламод",
    r"ikea",
    r"икеа",
    r"авито",
    r"avito",
    r"яндекс[ .-]?маркет",
    r"мегамаркет",
    r"joom",
    r"shein",
    r"temu",
    r"м\.?видео",
    r"эльдорадо",
    r"ситилинк",
    r"леруа",
    # food and grocery delivery
    r"самокат",
    r"яндекс[ .-]?(?:лавк|ед[аыу])",
    r"delivery club",
    r"деливери",
    r"кухн[яюи] на районе",
    r"додо",
    r"dodo",
    r"пят[её]рочк",
    r"перекр[её]ст",
    r"вкусвилл",
    r"ашан",
    r"сбермаркет",
    r"купер",
    r"doordash",
    r"uber ?eats",
    r"grubhub",
    r"glovo",
    # taxi, car sharing, tickets, travel
    r"такси",
    r"taxi",
    r"uber",
    r"яндекс[ .-]?драйв",
    r"делимобил",
    r"ржд",
    r"аэрофлот",
    r"aviasales",
    r"авиабилет",
    r"booking\.com",
    r"букинг",
    r"островок",
    r"airbnb",
    r"fedex",
    # streaming, apps, subscriptions of other companies
    r"netflix",
    r"spotify",
    r"apple music",
    r"app ?store",
    r"google play",
    r"кинопоиск",
    r"иви",
    r"ivi",
    r"okko",
    r"литрес",
    r"яндекс[ .-]?плюс",
    r"сберпрайм",
    r"вк[ .-]?музык",
    r"youtube",
    r"chatgpt",
    r"steam",
    r"playstation",
    # government, utilities, telecom, money
    r"госуслуг",
    r"гибдд",
    r"налогов",
    r"коммуналк",
    r"жкх",
    r"мтс",
    r"билайн",
    r"мегафон",
    r"теле2",
    r"ростелеком",
    r"биткоин",
    r"bitcoin",
]
_OTHER = re.compile(r"(?<![\w])(?:" + "|".join(OTHER_SERVICES) + ")", re.IGNORECASE)
_OURS = re.compile(
    r"(?<![\w])(?:wildberries|вайлдберриз|вб|wb|ozon|озон)(?![\w])", re.IGNORECASE
)


def names_another_service(text: str) -> bool:
    return bool(_OTHER.search(text or "")) and not _OURS.search(text or "")


def out_of_scope(
    ranking: list[dict], intents: Collection[str] = SHOP_INTENTS
) -> list[dict]:
    """``ranking`` with ``out_of_scope`` first when its top intent is one of the
    shop's ``intents``; otherwise ``ranking`` unchanged."""
    if not ranking or ranking[0]["name"] not in intents:
        return ranking
    rest = [r for r in ranking if r["name"] != OUT_OF_SCOPE]
    top = max(0.9, float(ranking[0]["confidence"]))
    return [{"name": OUT_OF_SCOPE, "confidence": top}, *rest]

"""The seller's Ozon catalogue: product info and stock by ``offer_id`` / ``sku``, and
the product-availability answer when the shop's catalogue is on Ozon.

Seller API methods (JSON POST, headers ``Client-Id`` / ``Api-Key``):

* ``/v3/product/list`` ``{"filter": {"visibility": "ALL"}, "limit": ≤1000,
  "last_id": ""}`` → ``{"result": {"items": [{"product_id", "offer_id",
  "archived", …}], "total", "last_id"}}``, paged by ``last_id`` (empty at the end);
* ``/v3/product/info/list`` ``{"offer_id": […]}`` or ``{"sku": […]}`` or
  ``{"product_id": […]}`` (at most 1000 identifiers) → ``{"items": [{"id",
  "offer_id", "sku", "name", "price" (decimal string), "currency_code",
  "model_info": {"model_id", "count"}, …}]}`` (``/v2/product/info/list`` is
  retired);
* ``/v4/product/info/stocks`` ``{"filter": {"offer_id": […], "visibility":
  "ALL"}, "limit": ≤1000, "cursor": ""}`` → ``{"items": [{"offer_id",
  "product_id", "stocks": [{"type": "fbs|rfbs|fbo|fbp", "present", "reserved",
  "sku", …}]}], "total", "cursor"}``, paged by ``cursor``.

What a shopper can buy is ``present - reserved`` summed over the stock types.

Availability by the shopper's words: the catalogue's names (list + info, kept for
``CATALOGUE_TTL_S``) are matched by word stems; matching offers are grouped by
``model_info.model_id`` (Ozon's variants of one model: sizes, colours) and their
stock is read fresh. Ozon keeps size and colour in attributes that differ per
category, so a variant's size and colour are read from its name ("…, чёрный, 42").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from actions.integrations.base import Product, StockLine
from actions.integrations.catalog import normalize_color, normalize_size, stems
from actions.integrations.marketplace import rounded, whole_units
from common.http import PlatformClient, PlatformError

logger = logging.getLogger(__name__)

PAGE = 1000  # the most identifiers / items one request takes or returns
MAX_PAGES = 50
CATALOGUE_TTL_S = 600.0
MAX_MODELS = 3


@dataclass(frozen=True)
class OzonOffer:
    """One ``offer_id`` (a variant) with its stock."""

    offer_id: str
    product_id: int
    sku: int | None
    name: str
    price: int
    currency: str
    model_id: int | None
    present: int
    reserved: int

    @property
    def available(self) -> int:
        return max(self.present - self.reserved, 0)


class OzonCatalog:
    def __init__(
        self,
        client: PlatformClient,
        headers: dict[str, str],
        on_error: Callable[[PlatformError, str], NoReturn],
        ttl_s: float = CATALOGUE_TTL_S,
    ) -> None:
        self.client = client
        self.headers = headers
        self.on_error = on_error  # raises the source's OrderSourceError
        self.ttl_s = ttl_s
        self._names: list[dict[str, Any]] = []
        self._loaded_at = -float("inf")

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = await self.client.post(path, json=body, headers=self.headers)
        except PlatformError as error:
            self.on_error(error, path)
        return answer if isinstance(answer, dict) else {}

    # --- by identifier ----------------------------------------------------------

    async def product_info(
        self, offer_ids: Sequence[str] = (), skus: Sequence[int] = ()
    ) -> list[dict[str, Any]]:
        """``/v3/product/info/list`` items for these offer ids or SKUs."""
        items: list[dict[str, Any]] = []
        for key, values in (("offer_id", list(offer_ids)), ("sku", list(skus))):
            for chunk in _chunks(values):
                body = {key: [str(v) for v in chunk]}
                answer = await self._post("/v3/product/info/list", body)
                items.extend(answer.get("items") or [])
        return items

    async def stocks(self, offer_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """``offer_id`` → (present, reserved), summed over the stock types."""
        totals: dict[str, tuple[int, int]] = {}
        for chunk in _chunks(list(offer_ids)):
            cursor = ""
            for _ in range(MAX_PAGES):
                answer = await self._post(
                    "/v4/product/info/stocks",
                    {
                        "filter": {"offer_id": chunk, "visibility": "ALL"},
                        "limit": PAGE,
                        "cursor": cursor,
                    },
                )
                page = answer.get("items") or []
                for item in page:
                    present = sum(_int(s.get("present")) for s in item["stocks"] or [])
                    reserved = sum(
                        _int(s.get("reserved")) for s in item["stocks"] or []
                    )
                    totals[str(item.get("offer_id"))] = (present, reserved)
                next_cursor = str(answer.get("cursor") or "")
                if not page or not next_cursor or next_cursor == cursor:
                    break
                cursor = next_cursor
        return totals

    async def offers(
        self, offer_ids: Sequence[str] = (), skus: Sequence[int] = ()
    ) -> list[OzonOffer]:
        """Info and stock for these offer ids or SKUs (unknown ones left out)."""
        return await self._with_stock(await self.product_info(offer_ids, skus))

    async def _with_stock(self, items: list[dict[str, Any]]) -> list[OzonOffer]:
        stock = await self.stocks([str(i.get("offer_id")) for i in items])
        offers = []
        for item in items:
            offer_id = str(item.get("offer_id") or "")
            present, reserved = stock.get(offer_id, (0, 0))
            model = (item.get("model_info") or {}).get("model_id")
            offers.append(
                OzonOffer(
                    offer_id=offer_id,
                    product_id=_int(item.get("id")),
                    sku=_int(item.get("sku")) or None,
                    name=str(item.get("name") or offer_id),
                    price=rounded(whole_units(item.get("price"))),
                    currency=str(item.get("currency_code") or "RUB"),
                    model_id=_int(model) or None,
                    present=present,
                    reserved=reserved,
                )
            )
        return offers

    # --- by the shopper's words -------------------------------------------------

    async def _catalogue(self) -> list[dict[str, Any]]:
        """Every visible product's info (name, offer, model), cached for a while."""
        if time.monotonic() - self._loaded_at < self.ttl_s:
            return self._names
        product_ids: list[str] = []
        last_id = ""
        for _ in range(MAX_PAGES):
            answer = await self._post(
                "/v3/product/list",
                {"filter": {"visibility": "ALL"}, "limit": PAGE, "last_id": last_id},
            )
            result = answer.get("result") or {}
            page = result.get("items") or []
            product_ids.extend(
                str(i["product_id"]) for i in page if not i.get("archived")
            )
            next_id = str(result.get("last_id") or "")
            if not page or not next_id or next_id == last_id:
                break
            last_id = next_id
        names: list[dict[str, Any]] = []
        for chunk in _chunks(product_ids):
            answer = await self._post("/v3/product/info/list", {"product_id": chunk})
            names.extend(answer.get("items") or [])
        self._names, self._loaded_at = names, time.monotonic()
        logger.info("ozon.catalogue.loaded", extra={"products": len(names)})
        return names

    async def find_products(self, query: str) -> list[Product]:
        # Size and colour pick a variant later; the other words pick the model.
        wanted = {
            term
            for term in stems(query)
            if not normalize_size(term) and not normalize_color(term)
        }
        if not wanted:
            return []
        catalogue = await self._catalogue()
        scored: list[tuple[int, dict[str, Any]]] = []
        for item in catalogue:
            words = set(stems(str(item.get("name") or "")))
            score = sum(1 for term in wanted if _matches(term, words))
            if score:
                scored.append((score, item))
        if not scored:
            return []
        scored.sort(key=lambda pair: -pair[0])
        models: list[Any] = []
        for _, item in scored:
            if _model(item) not in models:
                models.append(_model(item))
        models = models[:MAX_MODELS]
        groups = [[i for i in catalogue if _model(i) == m] for m in models]
        offers = await self._with_stock([i for group in groups for i in group])
        by_offer = {offer.offer_id: offer for offer in offers}
        return [
            _product([by_offer[str(i.get("offer_id") or "")] for i in group])
            for group in groups
        ]


def _model(item: dict[str, Any]) -> Any:
    return (item.get("model_info") or {}).get("model_id") or item.get("id")


def _product(variants: list[OzonOffer]) -> Product:
    title = _common_title([v.name for v in variants])
    return Product(
        sku=variants[0].offer_id,
        title_ru=title,
        title_en=title,
        price=min(v.price for v in variants),
        currency=variants[0].currency,
        stock=tuple(
            StockLine(_size(v.name), _color(v.name), v.available) for v in variants
        ),
    )


def _common_title(names: list[str]) -> str:
    """The words the variants' names share, up to where they differ."""
    if len(names) == 1:
        parts = [p.strip() for p in names[0].split(",")]
        kept = [p for p in parts if not (_size(p) or _color(p))]
        return ", ".join(kept) or names[0]
    first = [p.strip() for p in names[0].split(",")]
    shared = []
    for index, part in enumerate(first):
        if all(
            index < len(n.split(",")) and n.split(",")[index].strip() == part
            for n in names
        ):
            shared.append(part)
        else:
            break
    return ", ".join(shared) or names[0]


def _tokens(name: str) -> list[str]:
    return [t.strip(" .;()") for t in name.replace(",", " ").split() if t.strip()]


def _size(name: str) -> str | None:
    found = [s for s in (normalize_size(t) for t in _tokens(name)) if s]
    return found[-1] if found else None


def _color(name: str) -> str | None:
    found = [c for c in (normalize_color(t) for t in _tokens(name)) if c]
    return found[-1] if found else None


def _matches(term: str, words: set[str]) -> bool:
    """Equal stems, or one a prefix of the other ("кроссовок" and "кроссовк")."""
    for word in words:
        short, long = sorted((term, word), key=len)
        if term == word or (len(short) >= 5 and long.startswith(short)):
            return True
    return False


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), PAGE):
        yield values[start : start + PAGE]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0

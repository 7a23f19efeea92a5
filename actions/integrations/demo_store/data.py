"""Seed data of the demo store: a realistic catalogue and orders in every state.

Dates are relative to the moment of seeding so that "delivered three days ago" stays
returnable and "expected tomorrow" stays in the future on a fresh store.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from actions.integrations.base import OrderState


@dataclass(frozen=True)
class SeedProduct:
    sku: str
    title_ru: str
    title_en: str
    keywords: str  # extra words shoppers use, both languages
    price: int
    sizes: tuple[str | None, ...]
    colors: tuple[str, ...]


CATALOGUE: tuple[SeedProduct, ...] = (
    SeedProduct(
        "SNK-VIHR",
        "Кроссовки беговые «Вихрь»",
        "Running sneakers Vikhr",
        "кроссовки кроссы кросовки беговые sneakers trainers running shoes",
        6490,
        ("38", "39", "40", "41", "42", "43", "44", "45"),
        ("black", "white", "blue"),
    ),
    SeedProduct(
        "HOOD-OVR",
        "Худи оверсайз",
        "Oversized hoodie",
        "худи толстовка кофта hoodie sweatshirt",
        3990,
        ("XS", "S", "M", "L", "XL"),
        ("grey", "black", "beige"),
    ),
    SeedProduct(
        "JNS-STR",
        "Джинсы прямые",
        "Straight jeans",
        "джинсы джинсики штаны jeans denim",
        4590,
        ("28", "29", "30", "31", "32", "33", "34", "36"),
        ("blue", "black"),
    ),
    SeedProduct(
        "DWN-WIN",
        "Пуховик зимний",
        "Winter down jacket",
        "пуховик куртка зимняя down jacket puffer coat",
        12990,
        ("S", "M", "L", "XL"),
        ("black", "green"),
    ),
    SeedProduct(
        "TSH-BAS",
        "Футболка базовая",
        "Basic t-shirt",
        "футболка футболочка майка t-shirt tee",
        1290,
        ("XS", "S", "M", "L", "XL", "XXL"),
        ("white", "black", "red"),
    ),
    SeedProduct(
        "DRS-MID",
        "Платье миди",
        "Midi dress",
        "платье платьице dress",
        5490,
        ("XS", "S", "M", "L"),
        ("red", "black", "beige"),
    ),
    SeedProduct(
        "BTS-CHL",
        "Ботинки челси",
        "Chelsea boots",
        "ботинки челси сапоги boots chelsea",
        8990,
        ("36", "37", "38", "39", "40", "41", "42", "43", "44"),
        ("black", "brown"),
    ),
    SeedProduct(
        "BAG-CTY",
        "Рюкзак городской",
        "City backpack",
        "рюкзак портфель backpack bag",
        3490,
        (None,),
        ("black", "grey"),
    ),
    SeedProduct(
        "HAT-KNT",
        "Шапка вязаная",
        "Knit hat",
        "шапка шапочка бини hat beanie",
        1490,
        (None,),
        ("beige", "black", "red"),
    ),
    SeedProduct(
        "EAR-WLS",
        "Наушники беспроводные",
        "Wireless earbuds",
        "наушники уши airpods earbuds headphones earphones",
        4990,
        (None,),
        ("white", "black"),
    ),
    SeedProduct(
        "WTC-SMT",
        "Смарт-часы",
        "Smart watch",
        "смарт часы смартчасы часы watch smartwatch",
        9990,
        (None,),
        ("black", "silver"),
    ),
    SeedProduct(
        "CRM-HYD",
        "Увлажняющий крем",
        "Moisturizing cream",
        "крем увлажняющий cream moisturizer",
        990,
        (None,),
        ("white",),
    ),
)

# Items that are sold out on purpose, so "not in stock" answers can be shown.
SOLD_OUT: frozenset[tuple[str, str | None, str]] = frozenset(
    {
        ("SNK-VIHR", "42", "black"),
        ("SNK-VIHR", "45", "white"),
        ("DWN-WIN", "XL", "green"),
        ("DRS-MID", "XS", "red"),
        ("EAR-WLS", None, "black"),
    }
)


@dataclass(frozen=True)
class SeedOrder:
    order_id: str
    channel: str
    state: OrderState
    created_days_ago: int
    expected_in_days: int | None  # None when delivered or cancelled
    delivered_days_ago: int | None
    paid: bool
    items: tuple[tuple[str, str | None, str, int], ...]  # sku, size, colour, quantity
    address: str
    refund_state: str | None = None  # pending / completed, for cancelled or returned
    return_state: str | None = None


# The orders the README tells newcomers to try. Keep them stable.
SHOWCASE: tuple[SeedOrder, ...] = (
    SeedOrder(
        "A-10234",
        "shop",
        OrderState.SHIPPED,
        3,
        2,
        None,
        True,
        (("SNK-VIHR", "42", "white", 1),),
        "Москва, ул. Тверская, д. 7, кв. 12",
    ),
    SeedOrder(
        "48213307-0051-1",
        "ozon",
        OrderState.DELIVERED,
        9,
        None,
        3,
        True,
        (("HOOD-OVR", "M", "grey", 1),),
        "Казань, пункт выдачи Ozon, ул. Баумана, 44",
    ),
    SeedOrder(
        "3728419056",
        "wildberries",
        OrderState.PROCESSING,
        1,
        4,
        None,
        True,
        (("JNS-STR", "31", "blue", 1), ("TSH-BAS", "M", "white", 2)),
        "Санкт-Петербург, пункт выдачи WB, Невский пр., 100",
    ),
    SeedOrder(
        "A-10240",
        "shop",
        OrderState.AWAITING_PAYMENT,
        0,
        5,
        None,
        False,
        (("BTS-CHL", "39", "black", 1),),
        "Екатеринбург, ул. Ленина, д. 24, кв. 5",
    ),
    SeedOrder(
        "45871",
        "shop",
        OrderState.DELIVERED,
        45,
        None,
        40,
        True,
        (("DWN-WIN", "L", "black", 1),),
        "Новосибирск, Красный пр., д. 15, кв. 88",
    ),
    SeedOrder(
        "A-10235",
        "shop",
        OrderState.CANCELLED,
        6,
        None,
        None,
        True,
        (("WTC-SMT", None, "silver", 1),),
        "Москва, Ленинский пр., д. 30, кв. 4",
        refund_state="pending",
    ),
    SeedOrder(
        "A-10236",
        "shop",
        OrderState.READY_FOR_PICKUP,
        4,
        0,
        None,
        True,
        (("EAR-WLS", None, "white", 1),),
        "Москва, пункт выдачи, ул. Арбат, 10",
    ),
    SeedOrder(
        "59120044-0007-1",
        "ozon",
        OrderState.DELIVERED,
        20,
        None,
        12,
        True,
        (("DRS-MID", "S", "red", 1),),
        "Самара, пункт выдачи Ozon, ул. Ленинградская, 3",
        refund_state="completed",
        return_state="received",
    ),
    # Two items, delivered: an exchange asks which one.
    SeedOrder(
        "A-10241",
        "shop",
        OrderState.DELIVERED,
        6,
        None,
        2,
        True,
        (("SNK-VIHR", "41", "black", 1), ("TSH-BAS", "M", "white", 1)),
        "Москва, ул. Профсоюзная, д. 12, кв. 40",
    ),
)

_CITIES = (
    "Москва, ул. Профсоюзная, д. {n}, кв. {m}",
    "Санкт-Петербург, ул. Марата, д. {n}, кв. {m}",
    "Нижний Новгород, ул. Большая Покровская, д. {n}",
    "Краснодар, ул. Красная, д. {n}, кв. {m}",
    "Ростов-на-Дону, пр. Будённовский, д. {n}",
    "Воронеж, ул. Плехановская, д. {n}, кв. {m}",
)


def generated_orders(count: int = 30, seed: int = 20261129) -> list[SeedOrder]:
    """More orders in every state and format, the same on every machine."""
    rng = random.Random(seed)
    states = list(OrderState)
    orders = []
    for index in range(count):
        state = states[index % len(states)]
        channel = ("shop", "ozon", "wildberries")[index % 3]
        if channel == "shop":
            order_id = f"{rng.choice('ABC')}-{11000 + index * 7}"
        elif channel == "ozon":
            order_id = f"{rng.randint(10**7, 10**8 - 1)}-{rng.randint(1, 99):04d}-1"
        else:
            order_id = str(rng.randint(10**9, 10**10 - 1))
        product = rng.choice(CATALOGUE)
        item = (product.sku, rng.choice(product.sizes), rng.choice(product.colors), 1)
        created = rng.randint(1, 30)
        delivered = (
            rng.randint(0, created - 1) if state is OrderState.DELIVERED else None
        )
        expected = (
            None
            if state in (OrderState.DELIVERED, OrderState.CANCELLED)
            else (rng.randint(0, 6))
        )
        paid = state is not OrderState.AWAITING_PAYMENT
        orders.append(
            SeedOrder(
                order_id,
                channel,
                state,
                created,
                expected,
                delivered,
                paid,
                (item,),
                rng.choice(_CITIES).format(
                    n=rng.randint(1, 120), m=rng.randint(1, 300)
                ),
                refund_state="pending"
                if state is OrderState.CANCELLED and paid
                else None,
            )
        )
    return orders


def at(now: datetime, days_ago: int | None) -> datetime | None:
    return None if days_ago is None else now - timedelta(days=days_ago)

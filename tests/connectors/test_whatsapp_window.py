"""WhatsApp's 24-hour window: a proactive message after it goes out as the
configured template (a Graph emulator that refuses free-form messages to a
shopper who has not written for a day, error 131047, as Meta documents)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from common.http import PlatformError
from connectors.dedupe import MemoryDedupe
from connectors.whatsapp import WhatsAppInput
from tests.connectors import test_whatsapp as whatsapp
from tests.emulators import Call, Emulator

SHOPPER = "79161234567"
DAY = 24 * 3600


@dataclass
class Graph:
    """``POST /<version>/<phone id>/messages`` with the 24-hour window."""

    last_inbound: dict[str, float] = field(default_factory=dict)
    delivered: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, call: Call) -> Any:
        sent = call.json or {}
        to = str(sent.get("to", "")).lstrip("+")
        open_ = time.time() - self.last_inbound.get(to, 0) <= DAY
        if sent.get("type") != "template" and not open_:
            raise web.HTTPBadRequest(
                text='{"error": {"message": "(#131047) Re-engagement message", '
                '"type": "OAuthException", "code": 131047, '
                '"error_data": {"details": "Message failed to send because more '
                'than 24 hours have passed since the customer last replied."}}}',
                content_type="application/json",
            )
        self.delivered.append(sent)
        return whatsapp.graph_reply(call)


def channel(emulator: Emulator, template: str = "order_update") -> WhatsAppInput:
    return WhatsAppInput(
        whatsapp.ACCESS_TOKEN,
        whatsapp.APP_SECRET,
        whatsapp.VERIFY_TOKEN,
        whatsapp.PHONE_NUMBER_ID,
        api_url=emulator.url,
        dedupe=MemoryDedupe(),
        update_template=template,
    )


@pytest.fixture
async def graph(emulator_factory: Any) -> tuple[Graph, Emulator]:
    graph = Graph()
    return graph, await emulator_factory(graph)


async def test_after_the_window_an_update_goes_out_as_the_template(
    graph: tuple[Graph, Emulator],
) -> None:
    graph[0].last_inbound[SHOPPER] = time.time() - 2 * DAY
    output = channel(graph[1]).get_output_channel()

    await output.send_text_message(
        f"whatsapp:{SHOPPER}", "Заказ A-10234 в пути\n(СДЭК, трек-номер 1Z999)."
    )

    [template] = graph[0].delivered
    assert template["type"] == "template"
    assert template["to"] == SHOPPER
    assert template["template"] == {
        "name": "order_update",
        "language": {"code": "ru"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {
                        "type": "text",
                        "text": "Заказ A-10234 в пути (СДЭК, трек-номер 1Z999).",
                    }
                ],
            }
        ],
    }


async def test_inside_the_window_the_text_goes_out_as_it_is(
    graph: tuple[Graph, Emulator],
) -> None:
    graph[0].last_inbound[SHOPPER] = time.time() - 3600
    output = channel(graph[1]).get_output_channel()
    await output.send_text_message(f"whatsapp:{SHOPPER}", "Заказ A-10234 в пути.")
    [sent] = graph[0].delivered
    assert sent["type"] == "text" and sent["text"]["body"] == "Заказ A-10234 в пути."


async def test_without_a_template_the_update_fails_so_it_is_tried_again(
    graph: tuple[Graph, Emulator],
) -> None:
    output = channel(graph[1], template="").get_output_channel()
    with pytest.raises(PlatformError):
        await output.send_text_message(f"whatsapp:{SHOPPER}", "Заказ A-10234 в пути.")
    assert graph[0].delivered == []


async def test_other_refusals_are_not_papered_over_with_a_template(
    emulator_factory: Any,
) -> None:
    emulator = await emulator_factory(whatsapp.graph_reply)
    for _ in range(5):
        emulator.fail_next(
            400, {"error": {"message": "(#131026) Undeliverable", "code": 131026}}
        )
    output = channel(emulator).get_output_channel()
    with pytest.raises(PlatformError):
        await output.send_text_message(f"whatsapp:{SHOPPER}", "Заказ A-10234 в пути.")
    assert not any((c.json or {}).get("type") == "template" for c in emulator.calls)


async def test_a_reply_never_becomes_a_template(graph: tuple[Graph, Emulator]) -> None:
    """Replies answer a message the shopper just sent: the window is open by
    definition, and a refused reply is logged, not re-sent as a paid template."""
    output = channel(graph[1]).reply_output()
    await output.send_text_message(f"whatsapp:{SHOPPER}", "Здравствуйте!")
    assert graph[0].delivered == []

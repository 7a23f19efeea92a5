"""The attachment store over HTTP, for the Rasa connectors and the api.

None is public: the routes are not on the action server's allow-list
(``actions/access.py``), so each needs the action token.

- ``POST /attachments?sender_id=…&channel=…&kind=…&key=…``: the file as the
  body, its type as ``Content-Type``; 201 with the attachment (200 for a delivery
  kept before), 422 with the reason when it is not kept.
- ``GET /attachments?sender_id=…``: the conversation's files, without content.
- ``GET /attachments/<id>``: the file, with its type.
"""

from __future__ import annotations

import dataclasses
import logging

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.attachments.store import AttachmentStore, Refused

logger = logging.getLogger(__name__)
_FIELD_MAX = 200


def attachments_blueprint(store: AttachmentStore) -> Blueprint:
    blueprint = Blueprint("attachments", url_prefix="/attachments")

    @blueprint.post("", name="keep_attachment")
    async def keep(request: Request) -> HTTPResponse:
        fields = {}
        for name in ("sender_id", "channel", "kind", "key"):
            value = request.args.get(name)
            if not value or len(value) > _FIELD_MAX:
                return _bad(f"{name} is required (1-{_FIELD_MAX} characters)", 400)
            fields[name] = value
        mime_type = (request.headers.get("content-type") or "").split(";")[0].strip()
        try:
            kept, fresh = await store.add(
                source_key=f"{fields['channel']}:{fields['key']}",
                sender_id=fields["sender_id"],
                channel=fields["channel"],
                kind=fields["kind"],
                mime_type=mime_type.lower(),
                content=request.body or b"",
            )
        except Refused as refused:
            logger.info(
                "attachments.refused",
                extra={"channel": fields["channel"], "reason": str(refused)},
            )
            return _bad(str(refused), 422)
        if fresh:
            logger.info(
                "attachments.kept",
                extra={
                    "attachment_id": kept.attachment_id,
                    "channel": kept.channel,
                    "kind": kept.kind,
                    "size": kept.size,
                },
            )
        return response.json(dataclasses.asdict(kept), status=201 if fresh else 200)

    @blueprint.get("", name="list_attachments")
    async def listed(request: Request) -> HTTPResponse:
        sender_id = request.args.get("sender_id")
        if not sender_id or len(sender_id) > _FIELD_MAX:
            return _bad("sender_id is required", 400)
        return response.json([dataclasses.asdict(a) for a in await store.of(sender_id)])

    @blueprint.get("/<attachment_id:str>", name="attachment_content")
    async def content(request: Request, attachment_id: str) -> HTTPResponse:
        found = await store.content(attachment_id[:_FIELD_MAX])
        if found is None:
            return _bad("no such attachment", 404)
        attachment, body = found
        return response.raw(
            body,
            content_type=attachment.mime_type,
            headers={"X-Content-Type-Options": "nosniff"},
        )

    return blueprint


def _bad(message: str, status: int) -> HTTPResponse:
    return response.json({"error": message}, status=status)

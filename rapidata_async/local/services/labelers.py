"""``/_local/labelers``: invites to the labeling page (local only, not in the Rapidata API).

``POST /_local/labelers`` with ``{"name": "Ada", "audiences": ["<custom audience id>"]}`` (a
bearer token of a client, like every API call) creates a person of the caller's tenant and
answers 201 with their invite ``token`` and ``inviteUrl`` (shown once); ``GET`` lists the
tenant's labelers without tokens.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from .._context import ctx, tenant
from .._http import read_json, respond
from .._labelers import create_invite
from ..store.base import LabelerRow

routes: web.RouteTableDef = web.RouteTableDef()


class CreateLabelerInput(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    audiences: list[str] = msgspec.field(default_factory=list)


def _labeler(row: LabelerRow) -> dict[str, object]:
    return {
        "id": row.id,
        "name": row.name,
        "audiences": ["global", *row.audiences],
        "qualifications": {a: state for a, (state, _) in row.qualifications.items()},
        "createdAt": row.created_at,
    }


_decoder = msgspec.json.Decoder(CreateLabelerInput)


@routes.post("/_local/labelers")
async def create_labeler(request: web.Request) -> web.Response:
    body = await read_json(request, _decoder)
    invite = await create_invite(
        ctx(request).store, owner=tenant(request), name=body.name, audiences=body.audiences
    )
    origin = str(request.url.origin())
    payload = {**_labeler(invite.labeler), "token": invite.token, "inviteUrl": invite.link(origin)}
    return respond(payload, status=201)


@routes.get("/_local/labelers")
async def list_labelers(request: web.Request) -> web.Response:
    rows = await ctx(request).store.labelers.list(owner=tenant(request))
    return respond({"items": [_labeler(row) for row in rows]})

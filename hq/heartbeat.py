"""The heartbeat endpoint: a terminal reports its state; HQ keeps the latest and a history, answers with commands.

``POST /api/v1/terminals/{terminal_id}/heartbeat`` always needs a signature, whatever ``require_signatures``
says, and only for the signer's own id. Beats arriving at the same moment are written together, in one
transaction (hq/beat_writer.py, hq/beat_batches.py).

It is HQ's most frequent request (a fleet of 10,000 terminals sends 333 a second), so it is served by
:class:`HeartbeatEndpoint`, an ASGI layer in front of FastAPI's routing, rather than by a FastAPI route: routing,
dependency solving and response models cost more than the beat's own work. The endpoint does what they would:
the same signature check (hq/terminal_auth.py), the body parsed by the same model, the same error shapes
(hq/errors.py). :func:`document` describes it in /openapi.json as a route would be.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hq.beat_batches import Beat
from hq.beat_writer import BeatWriter
from hq.context import hq_context
from hq.errors import HqError, describe_validation_errors, error_response
from hq.fleet_context import fleet_context
from hq.fleet_schemas import HeartbeatIn, HeartbeatOut
from hq.schemas import ErrorOut
from hq.signing import SIGNED_HEADERS
from hq.terminal_auth import terminal_auth

PATH = "/api/v1/terminals/{terminal_id}/heartbeat"
TERMINAL_ID_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
_PATH_RE = re.compile(r"^/api/v1/terminals/(?P<terminal_id>[^/]+)/heartbeat$")


class HeartbeatEndpoint:
    """ASGI middleware: answers the heartbeat path itself and passes every other request on to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _PATH_RE.match(scope["path"]) if scope["type"] == "http" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            response: Response = error_response(405, "method_not_allowed", "Method Not Allowed")
            response.headers["Allow"] = "POST"
        else:
            scope["path_params"] = match.groupdict()
            response = await _heartbeat(Request(scope, receive))
        await response(scope, receive, send)


async def _heartbeat(request: Request) -> Response:
    try:
        await terminal_auth(request)  # the signature, and that the path's id is the signer's
        signer = request.state.terminal_id
        fleet = fleet_context(request.app)
        if signer is None:
            fleet.count("refused:signature_missing")
            raise HqError(401, "signature_missing", f"Only a registered terminal's signed request (headers "
                          f"{', '.join(SIGNED_HEADERS)}) may send a heartbeat.")
        try:
            beat = HeartbeatIn.model_validate_json(await request.body())
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
            return error_response(422, "invalid_request", describe_validation_errors(errors))
    except HqError as exc:
        return error_response(exc.status, exc.code, exc.message, **exc.extra)
    fleet.count("heartbeats")
    writer: BeatWriter[Beat] = request.app.state.beat_writer
    # Answered once the beat is committed, with the other beats waiting at the same moment.
    handed = await writer.write((signer, beat))
    answer = HeartbeatOut(server_time=hq_context(request.app).now(), commands=handed)
    return Response(answer.model_dump_json(), media_type="application/json")


def document(openapi: dict[str, Any]) -> dict[str, Any]:
    """Add the heartbeat's operation, and the models it takes and gives, to HQ's OpenAPI document."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    for model, mode in ((HeartbeatIn, "validation"), (HeartbeatOut, "serialization"), (ErrorOut, "serialization")):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)  # type: ignore[arg-type]
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema

    def body(name: str) -> dict[str, Any]:
        return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}

    openapi.setdefault("paths", {})[PATH] = {"post": {
        "tags": ["fleet"],
        "summary": "Heartbeat",
        "description": "Store the terminal's state, record the outcomes of earlier commands, and hand out the "
                       "waiting ones.\n\nErrors: 401 signature_missing and the other signature refusals "
                       "(docs/api.md); 403 terminal_revoked, terminal_mismatch; 422 invalid_request.",
        "operationId": "heartbeat",
        "parameters": [{"name": "terminal_id", "in": "path", "required": True,
                        "description": "The signing terminal's own id",
                        "schema": {"type": "string", "pattern": TERMINAL_ID_PATTERN}}],
        "requestBody": {"required": True, **body("HeartbeatIn")},
        "responses": {
            "200": {"description": "The beat is stored", **body("HeartbeatOut")},
            **{str(status): {"description": text, **body("ErrorOut")} for status, text in (
                (401, "Unauthorized"), (403, "Forbidden"), (422, "Unprocessable Entity"))},
        },
    }}
    return openapi

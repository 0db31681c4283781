"""The fleet dashboard: server-rendered pages for operators, refreshing themselves (``/fleet``).

Only a logged-in operator (signed session cookie, hq/operators.py) sees it; a terminal's signed request is
refused here, as an operator's cookie is worth nothing on the terminal API. Forms are plain URL-encoded posts
with an anti-forgery token; commands go to the terminal in its next heartbeat's answer (hq/commands.py).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from hq import commands, fleet, login_throttle
from hq.clock import as_utc
from hq.context import HqContext, request_context
from hq.errors import HqError
from hq.fleet_context import FleetContext, request_fleet
from hq.fleet_schemas import COMMAND_KINDS
from hq.operators import COOKIE_NAME, OperatorSession, form_token, issue_cookie, read_cookie
from hq.signing import SIGNED_HEADERS
from hq.templating import TEMPLATE_DIR, china_time

router = APIRouter(prefix="/fleet", include_in_schema=False)
Ctx = Annotated[HqContext, Depends(request_context)]
Fleet = Annotated[FleetContext, Depends(request_fleet)]

REFRESH_S = 15
MAX_FORM_BYTES = 4096
COMMAND_TEXT = {
    "out_of_service": ("暂停服务", "Put out of service"),
    "in_service": ("恢复服务", "Back in service"),
    "print_test_receipt": ("打印测试小票", "Print a test receipt"),
    "reload_config": ("重新加载配置", "Reload configuration"),
    "send_log": ("上传近期日志", "Send the recent log"),
}


def age(seconds: float | None) -> str:
    """``12 s``, ``4 min``, ``3 h``, ``2 d``: how long ago, for people."""
    if seconds is None:
        return "-"
    seconds = max(seconds, 0)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def megabytes(value: int | None) -> str:
    return "-" if value is None else f"{value / 1e9:.1f} GB" if value >= 1e9 else f"{value / 1e6:.0f} MB"


templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
templates.env.filters.update(china_time=china_time, age=age, megabytes=megabytes)
templates.env.globals.update(
    reasons=fleet.REASONS, state_text=fleet.STATE_TEXT, command_text=COMMAND_TEXT, refresh_s=REFRESH_S
)


def _refuse_terminals(request: Request) -> None:
    if any(h in request.headers for h in SIGNED_HEADERS):
        raise HqError(403, "operators_only", "The fleet dashboard is for operators; terminals use /api/v1.")


def _session(request: Request, ctx: HqContext, fleet_ctx: FleetContext) -> OperatorSession | None:
    _refuse_terminals(request)
    return read_cookie(
        fleet_ctx.session_key, ctx.sessions, request.cookies.get(COOKIE_NAME), as_utc(ctx.clock()),
        fleet_ctx.session_max_age,
    )


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/fleet/login?next={quote(target, safe='')}", status_code=303)


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HqError(413, "request_too_large", "Form too large.")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError) as exc:
        raise HqError(400, "bad_request", "Malformed form.") from exc
    return {k: v[0] for k, v in parsed.items()}


def _safe_next(target: str | None) -> str:
    # Only a path on this server: never an open redirect to another site.
    if target and target.startswith("/fleet") and not target.startswith("//"):
        return target
    return "/fleet"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/fleet") -> Response:
    _refuse_terminals(request)
    return templates.TemplateResponse(request, "fleet/login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, ctx: Ctx, fleet_ctx: Fleet) -> Response:
    _refuse_terminals(request)
    form = await _form(request)
    username, password = form.get("username", ""), form.get("password", "")
    target = _safe_next(form.get("next"))
    # One trip to a worker thread: the throttle's check (shared by every HQ process on the database), the
    # password, and the failure recorded or the failures cleared (hq/login_throttle.py).
    now = as_utc(ctx.clock())
    attempt = await run_in_threadpool(login_throttle.attempt_login, ctx.sessions, username, password, now)
    if attempt.blocked:
        return templates.TemplateResponse(
            request, "fleet/login.html", {"next": target, "error": "blocked"}, status_code=429
        )
    operator = attempt.operator
    if operator is None:
        fleet_ctx.count("operator_login_failed")
        return templates.TemplateResponse(
            request, "fleet/login.html", {"next": target, "error": "wrong"}, status_code=401
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE_NAME, issue_cookie(fleet_ctx.session_key, operator, now),
        max_age=int(fleet_ctx.session_max_age.total_seconds()), httponly=True, samesite="strict",
        secure=request.url.scheme == "https", path="/fleet",
    )
    return response


@router.post("/logout")
async def logout(request: Request, ctx: Ctx, fleet_ctx: Fleet) -> Response:
    session = _session(request, ctx, fleet_ctx)
    form = await _form(request)
    if session is not None and form.get("token") != form_token(fleet_ctx.session_key, session.token):
        raise HqError(403, "bad_form_token", "This form is stale or was not sent by the dashboard.")
    response = RedirectResponse("/fleet/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/fleet")
    return response


@router.get("", response_class=HTMLResponse)
def fleet_page(request: Request, ctx: Ctx, fleet_ctx: Fleet, show: str = "all") -> Response:
    """Every terminal with its state, devices, paper, queue, version and last beat; alerts on top."""
    session = _session(request, ctx, fleet_ctx)
    if session is None:
        return _to_login(request)
    views = fleet.fleet_views(ctx.sessions, fleet_ctx, ctx.clock())
    shown = fleet.select_views(views, show)
    context = {
        "operator": session.username, "token": form_token(fleet_ctx.session_key, session.token),
        "views": shown, "total": len(views), "show": show if show in fleet.FILTERS else "all",
        "filters": fleet.FILTERS, "alerts": fleet.alerts(views),
        "counts": {state: sum(1 for v in views if v.state == state) for state in fleet.STATE_TEXT},
        "attention": sum(1 for v in views if v.needs_someone),
    }
    return templates.TemplateResponse(request, "fleet/fleet.html", context)


@router.get("/terminals/{terminal_id}", response_class=HTMLResponse)
def terminal_page(terminal_id: str, request: Request, ctx: Ctx, fleet_ctx: Fleet) -> Response:
    """One terminal: its state and devices, its history of beats, its counters and its commands."""
    session = _session(request, ctx, fleet_ctx)
    if session is None:
        return _to_login(request)
    page = fleet.terminal_page(ctx.sessions, fleet_ctx, terminal_id, ctx.clock())
    if page is None:
        raise HqError(404, "unknown_terminal", f"No terminal {terminal_id} is registered.")
    context = {
        "operator": session.username, "token": form_token(fleet_ctx.session_key, session.token),
        "page": page, "view": page.view, "commands": commands.recent(ctx.sessions, terminal_id),
        "command_kinds": COMMAND_KINDS, "issued": request.query_params.get("issued"),
    }
    return templates.TemplateResponse(request, "fleet/terminal.html", context)


@router.post("/terminals/{terminal_id}/commands")
async def issue_command(terminal_id: str, request: Request, ctx: Ctx, fleet_ctx: Fleet) -> Response:
    """Queue a command for the terminal's next beat (the form on its page)."""
    session = _session(request, ctx, fleet_ctx)
    if session is None:
        return _to_login(request)
    form = await _form(request)
    if form.get("token") != form_token(fleet_ctx.session_key, session.token):
        raise HqError(403, "bad_form_token", "This form is stale or was not sent by the dashboard.")
    kind = form.get("kind", "")
    try:
        command = commands.issue(ctx.sessions, terminal_id, kind, session.username, as_utc(ctx.clock()),
                                 fleet_ctx.command_ttl)
    except commands.CommandError as exc:
        raise HqError(422, "invalid_command", str(exc)) from exc
    fleet_ctx.count(f"commands_issued:{kind}")
    return RedirectResponse(f"/fleet/terminals/{quote(terminal_id)}?issued={command.id}", status_code=303)


@router.get("/commands/{command_id}/log")
def command_log(command_id: int, request: Request, ctx: Ctx, fleet_ctx: Fleet) -> Response:
    """The log lines a terminal sent for a send_log command, as plain text."""
    session = _session(request, ctx, fleet_ctx)
    if session is None:
        return _to_login(request)
    command = commands.get(ctx.sessions, command_id)
    if command is None or command.attachment is None:
        raise HqError(404, "not_found", f"No log for command {command_id}.")
    return PlainTextResponse(command.attachment, headers={
        "Content-Disposition": f'inline; filename="{command.terminal_id}-log-{command_id}.txt"',
        "X-Content-Type-Options": "nosniff",  # a terminal's text is never to be taken for a page
    })

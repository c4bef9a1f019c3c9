"""The HTML dashboard at `/__mock/`: rendered by the server, one page, no script, no CDN.

It shows one workspace (`?workspace=NAME`, default the default one): per resource its entities
with their computed counts and statuses (the first DASHBOARD_ROWS, as index answers them), the
clock with a form that moves it, a reset button, the workspaces, and the recent requests.
The forms post to `/__mock/ui/clock` and `/__mock/ui/reset`, which answer 303 back to the page.

A form can be posted by any web page the browser visits (forms are not subject to CORS): like
every control, those two endpoints refuse a request from a page whose origin is neither the
mock's own nor one CORS allows (controls.foreign_write).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs, quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from .controls import clock_date, guarded, reset_workspace, set_clock, small_body
from .request_log import LoggedRequest
from .resources import Resource
from .state_format import StateError
from .workspaces import DEFAULT_WORKSPACE, Workspace, Workspaces

Endpoint = Callable[[Request], Awaitable[Response]]

DASHBOARD_ROWS = 100  # entities shown per resource (an index page of 100)
RECENT_REQUESTS = 25
MAX_FORM_BYTES = 1024
MAX_SHIFT_DAYS = 36_600  # a century either way
CELL_CHARS = 60  # a longer value is cut in its cell (the full value is its title)
EXCERPT_CHARS = 160
_DAYS = re.compile(r"[+-]?[0-9]{1,6}\Z")


def columns(resource: Resource) -> list[str]:
    """What a row shows: the id, the stored fields a person scans (name, code, dates, the
    outcome `done`), then every computed field (counts, statuses, names of what it refers to)."""
    scanned = [f for f in resource.stored if f in ("code", "name", "done") or f.startswith("date_")]
    return [resource.id_field, *scanned, *(f for f in resource.computed if f not in scanned)]


def _cell(field: str, value: Any) -> str:
    if value is None:
        return '<td class="null">-</td>'
    text = str(value).lower() if isinstance(value, bool) else str(value)
    shown = text if len(text) <= CELL_CHARS else text[:CELL_CHARS] + "..."
    css = f' class="status status-{html.escape(text)}"' if field == "status" else ""
    return f'<td{css} title="{html.escape(text)}">{html.escape(shown)}</td>'


def _table(workspace: Workspace, resource: Resource) -> str:
    page = workspace.domain.search(resource.segment, {"per-page": DASHBOARD_ROWS})
    fields = columns(resource)
    head = "".join(f"<th>{html.escape(f)}</th>" for f in fields)
    rows = "".join(
        f'<tr data-id="{html.escape(str(item[resource.id_field]))}">' + "".join(_cell(f, item.get(f)) for f in fields) + "</tr>"
        for item in page.items)
    shown = f"{len(page.items)} of {page.total}" if page.total > len(page.items) else f"{page.total}"
    segment = html.escape(resource.segment)
    return (f'<details open id="resource-{segment}"><summary><h3>{segment} <small>({shown})</small></h3></summary>'
            f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div></details>')


def _requests(entries: list[LoggedRequest]) -> str:
    if not entries:
        return "<p>No API request yet (the log keeps the /v2 calls and the token URL).</p>"
    rows = []
    for entry in entries:
        shown = entry.as_json()
        target = entry.path + (f"?{entry.query}" if entry.query else "")
        rows.append(
            f'<tr><td>{html.escape(shown["time"][11:23])}</td><td>{html.escape(entry.method)}</td>'
            f'<td title="{html.escape(target)}">{html.escape(target[:90])}</td>'
            f'<td class="code code-{entry.status // 100}xx">{entry.status}</td><td>{entry.duration_ms:.1f}</td>'
            f'<td><code>{html.escape(shown["request_body"][:EXCERPT_CHARS])}</code></td>'
            f'<td><code>{html.escape(shown["response_body"][:EXCERPT_CHARS])}</code></td></tr>')
    return ('<table id="requests"><thead><tr><th>time (UTC)</th><th>method</th><th>path</th><th>status</th><th>ms</th>'
            f'<th>request</th><th>answer</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _workspaces(registry: Workspaces, current: str) -> str:
    items = []
    for workspace in registry.all():
        name = html.escape(workspace.name)
        link = f'<a href="/__mock/?workspace={quote(workspace.name)}">{name}</a>'
        mark = " <strong>(shown)</strong>" if workspace.name == current else ""
        items.append(f"<li>{link}{mark}: today {workspace.domain.clock.today().isoformat()}, "
                     f"{len(workspace.requests)} logged requests</li>")
    return f'<ul id="workspaces">{"".join(items)}</ul><p><small>{len(items)} of at most {registry.limit}; '\
           f'a request names its workspace with the header X-Mock-Workspace.</small></p>'


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.4em;margin:0 0 .5em} h2{font-size:1.15em;margin:1.2em 0 .4em;border-bottom:1px solid #ccc}
h3{display:inline;font-size:1em} summary{cursor:pointer;margin:.6em 0 .3em}
table{border-collapse:collapse;background:#fff;font-size:12px} th,td{border:1px solid #ddd;padding:2px 6px;text-align:left;white-space:nowrap}
th{background:#eee} .scroll{overflow-x:auto;max-height:28em} td.null{color:#aaa}
.status-VALID{background:#d8f5d0} .status-EXPIRING{background:#ffe9a8} .status-EXPIRED{background:#f8c8c4} .status-NEW{background:#dde8ff}
.code-2xx{color:#176b1a} .code-4xx{color:#a05a00} .code-5xx{color:#b00020;font-weight:bold}
form{display:inline-block;margin:.2em 1em .2em 0} .clock{font-size:1.2em} code{font-size:11px}
.bar{display:flex;gap:2em;flex-wrap:wrap;align-items:flex-start}
"""


def render_page(registry: Workspaces, workspace: Workspace, resources: dict[str, Resource], message: str = "") -> str:
    clock = workspace.domain.clock
    name = html.escape(workspace.name)
    hidden = f'<input type="hidden" name="workspace" value="{name}">'
    fixed = "fixed" if clock.fixed is not None else "following the real date"
    shifts = "".join(f'<button name="days" value="{days}" id="clock-shift-{days}">+{label}</button>'
                     for days, label in ((1, "1 day"), (7, "7 days"), (30, "30 days"), (365, "1 year")))
    notice = f'<p class="message" id="message">{html.escape(message)}</p>' if message else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>4HSE mock: {name}</title><style>{STYLE}</style></head>
<body>
<h1>4HSE mock, workspace <span id="workspace">{name}</span></h1>{notice}
<div class="bar">
<section><h2>Clock</h2>
<p class="clock">today <strong id="today">{clock.today().isoformat()}</strong> ({fixed})</p>
<form method="post" action="/__mock/ui/clock">{hidden}<input type="hidden" name="op" value="set">
<input type="date" name="today" id="clock-today" value="{clock.today().isoformat()}" required>
<button id="clock-set">Set</button></form>
<form method="post" action="/__mock/ui/clock">{hidden}<input type="hidden" name="op" value="shift">{shifts}</form>
<form method="post" action="/__mock/ui/clock">{hidden}<input type="hidden" name="op" value="real">
<button id="clock-real">Follow the real date</button></form>
</section>
<section><h2>State</h2>
<form method="post" action="/__mock/ui/reset">{hidden}<button id="reset">Reset to the seed</button></form>
<p><a href="/__mock/state" download="state.json">state export</a> (of the default workspace; for another,
send X-Mock-Workspace) · <a href="/__mock/directory">directory</a> · <a href="/docs/">API docs</a></p>
</section>
<section><h2>Workspaces</h2>{_workspaces(registry, workspace.name)}</section>
<section><h2>Network and webhooks</h2>{_settings(workspace)}</section>
</div>
<h2>Entities</h2>
{"".join(_table(workspace, resource) for resource in resources.values())}
<h2>Recent requests</h2>
{_requests(workspace.requests.newest_first(limit=RECENT_REQUESTS))}
</body></html>"""


def _settings(workspace: Workspace) -> str:
    """The sections other modules add to health (faults, latency, webhook deliveries), as JSON;
    they are set with their own controls (`/__mock/faults`, `/__mock/latency`, `/__mock/webhooks`)."""
    shown: dict[str, Any] = {}
    for section in workspace.state.health_sections:
        shown.update(section(workspace.name))
    if not shown:
        return "<p>none</p>"
    return f'<pre id="network">{html.escape(json.dumps(shown, indent=1, ensure_ascii=True))}</pre>'


def _page_problem(status: int, message: str) -> HTMLResponse:
    body = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>4HSE mock: {status}</title></head>'
            f'<body><h1>{status}</h1><p id="message">{html.escape(message)}</p><p><a href="/__mock/">dashboard</a></p></body></html>')
    return HTMLResponse(body, status)


async def _form(request: Request) -> dict[str, str]:
    body = await small_body(request, MAX_FORM_BYTES, "dashboard form")
    try:
        fields = parse_qs(body.decode("ascii"), strict_parsing=False)
    except UnicodeDecodeError:
        raise StateError("body", "a dashboard form is ASCII") from None
    return {key: values[-1] for key, values in fields.items()}


def _back_to(workspace: str) -> RedirectResponse:
    return RedirectResponse(f"/__mock/?workspace={quote(workspace)}", status_code=303)


def _shifted(today: dt.date, days_text: str) -> dt.date:
    if not _DAYS.match(days_text) or abs(int(days_text)) > MAX_SHIFT_DAYS:
        raise StateError("days", f"is a whole number of days within +-{MAX_SHIFT_DAYS}")
    try:
        return today + dt.timedelta(days=int(days_text))
    except OverflowError:
        raise StateError("days", "moves the clock outside the calendar") from None


def routes(registry: Workspaces, resources: dict[str, Resource], control_token: str | None,
           origin_allowed: Callable[[str], bool]) -> list[tuple[str, Endpoint, list[str]]]:
    def shown(name: str | None) -> Workspace | None:
        return registry.get(name or DEFAULT_WORKSPACE)

    async def page(request: Request) -> Response:
        workspace = shown(request.query_params.get("workspace"))
        if workspace is None:
            return _page_problem(404, f"no workspace {request.query_params.get('workspace')!r}; "
                                      f"there are {', '.join(registry.names())}")
        return HTMLResponse(await run_in_threadpool(render_page, registry, workspace, resources))

    async def posted(request: Request) -> tuple[Workspace, dict[str, str]] | Response:
        try:
            form = await _form(request)
        except StateError as error:
            return _page_problem(400, str(error))
        workspace = shown(form.get("workspace"))
        if workspace is None:
            return _page_problem(404, f"no workspace {form.get('workspace')!r}")
        return workspace, form

    async def clock(request: Request) -> Response:
        got = await posted(request)
        if isinstance(got, Response):
            return got
        workspace, form = got
        operation = form.get("op")
        try:
            if operation == "set":
                today = clock_date({"today": form.get("today", "")})
            elif operation == "shift":
                today = _shifted(workspace.domain.clock.today(), form.get("days", ""))
            elif operation == "real":
                today = None
            else:
                raise StateError("op", "is set, shift or real")
        except StateError as error:
            return _page_problem(400, str(error))
        failed = await set_clock(workspace.state, today)
        if failed is not None:
            return _page_problem(400, bytes(failed.body).decode("ascii", "replace"))
        return _back_to(workspace.name)

    async def reset(request: Request) -> Response:
        got = await posted(request)
        if isinstance(got, Response):
            return got
        workspace, _ = got
        failed = await reset_workspace(workspace.state)
        if failed is not None:
            return _page_problem(409, bytes(failed.body).decode("ascii", "replace"))
        return _back_to(workspace.name)

    endpoints: list[tuple[str, Endpoint, list[str]]] = [
        ("/__mock/", page, ["GET"]),
        ("/__mock", page, ["GET"]),
        ("/__mock/ui/clock", clock, ["POST"]),
        ("/__mock/ui/reset", reset, ["POST"]),
    ]
    return [(path, guarded(endpoint, control_token, origin_allowed), methods) for path, endpoint, methods in endpoints]

"""Headless Chromium against the mock: a browser app of another origin, Swagger UI, the dashboard."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockhttp import RunningMock, start_mock
from mockworld import SMALL_WORLD, SUB_1, TODAY

pytestmark = [pytest.mark.browser, pytest.mark.http]

# A frontend app's first calls: log in at the token URL (OAuth2 password flow), then an index
# call with the token, reading X-Pagination-Total-Count (a header only CORS exposes to scripts).
APP_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>frontend app</title></head><body>
<h1>frontend app</h1><p>login: <span id="login">...</span></p><p>total: <span id="total">...</span></p>
<p>workspace total: <span id="workspace-total">...</span></p>
<script>
const mock = new URLSearchParams(location.search).get("mock");
async function run() {
  try {
    const login = await fetch(mock + "/realms/4hse/protocol/openid-connect/token", {method: "POST",
      headers: {"Content-Type": "application/x-www-form-urlencoded"},
      body: "grant_type=password&username=demo&password=demo"});
    const token = (await login.json()).access_token;
    document.getElementById("login").textContent = login.status + (token ? " token" : " no token");
    const index = await fetch(mock + "/v2/action/index", {method: "POST",
      headers: {"Authorization": "Bearer " + token, "Content-Type": "application/json"},
      body: JSON.stringify({"per-page": 1})});
    document.getElementById("total").textContent = index.status + " " + index.headers.get("X-Pagination-Total-Count");
    const own = await fetch(mock + "/v2/action/index", {method: "POST",
      headers: {"Authorization": "Bearer " + token, "Content-Type": "application/json", "X-Mock-Workspace": "browser-job"},
      body: JSON.stringify({"per-page": 1})});
    document.getElementById("workspace-total").textContent = own.status + " " + own.headers.get("X-Pagination-Total-Count");
  } catch (error) {
    document.getElementById("login").textContent = "failed: " + error;
  }
}
run();
</script></body></html>"""

# The same app on error answers: what it reads of an injected 503 (when to retry, which fault)
# and of a 401 (the challenge); each of these headers is readable only if CORS exposes it.
ERRORS_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>frontend app, errors</title></head><body>
<h1>frontend app, errors</h1><p>503: <span id="fault">...</span></p><p>401: <span id="unauthorized">...</span></p>
<script>
const query = new URLSearchParams(location.search);
const mock = query.get("mock");
async function run() {
  try {
    const fault = await fetch(mock + "/v2/action/index", {method: "POST",
      headers: {"Authorization": "Bearer mock-token", "Content-Type": "application/json",
                "X-Mock-Workspace": query.get("workspace")}, body: "{}"});
    document.getElementById("fault").textContent = [fault.status, fault.headers.get("Retry-After"),
      fault.headers.get("X-Mock-Fault")].join(" ");
    const refused = await fetch(mock + "/v2/action/index", {method: "POST",
      headers: {"Content-Type": "application/json"}, body: "{}"});
    document.getElementById("unauthorized").textContent = refused.status + " " + refused.headers.get("WWW-Authenticate");
  } catch (error) {
    document.getElementById("fault").textContent = "failed: " + error;
  }
}
run();
</script></body></html>"""

SMALL_WORLD_ACTIONS = "3"


@pytest.fixture(scope="module")
def app_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A static server on another port: the frontend app's origin, http://localhost:PORT."""
    folder = tmp_path_factory.mktemp("app")
    (folder / "index.html").write_text(APP_PAGE)
    (folder / "errors.html").write_text(ERRORS_PAGE)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_a_page_of_another_local_origin_logs_in_and_reads_the_pagination_total(
        page: Any, mock: RunningMock, app_origin: str, screenshots: Path) -> None:
    page.goto(f"{app_origin}/index.html?mock={mock.url}")
    page.wait_for_function("document.getElementById('workspace-total').textContent !== '...'"
                           " || document.getElementById('login').textContent.startsWith('failed')")
    page.screenshot(path=str(screenshots / "cors-app.png"))
    assert page.text_content("#login") == "200 token", page.console_lines
    assert page.text_content("#total") == f"200 {SMALL_WORLD_ACTIONS}"
    assert page.text_content("#workspace-total") == f"200 {SMALL_WORLD_ACTIONS}"  # a workspace of its own
    assert not [line for line in page.console_lines if "CORS" in line]


def test_a_page_of_another_local_origin_reads_the_headers_of_a_fault_and_of_a_401(
        page: Any, mock: RunningMock, app_origin: str, screenshots: Path) -> None:
    workspace = "browser-faults"
    with httpx.Client(base_url=mock.url, trust_env=False, headers={"X-Mock-Workspace": workspace}) as client:
        rule = {"path": "/v2/action/index", "status": 503, "retry_after": 7}
        assert client.put("/__mock/faults", json=[rule]).status_code == 200
        try:
            page.goto(f"{app_origin}/errors.html?mock={mock.url}&workspace={workspace}")
            page.wait_for_function("document.getElementById('unauthorized').textContent !== '...'"
                                   " || document.getElementById('fault').textContent.startsWith('failed')")
            page.screenshot(path=str(screenshots / "cors-app-errors.png"))
        finally:
            assert client.delete(f"/__mock/workspaces/{workspace}").status_code == 204
    assert page.text_content("#fault") == "503 7 status-503", page.console_lines
    assert page.text_content("#unauthorized") == '401 Bearer realm="4hse"', page.console_lines


def test_without_cors_the_same_page_is_blocked(page: Any, app_origin: str, screenshots: Path) -> None:
    blocked = start_mock(today=TODAY.isoformat(), seed=SMALL_WORLD, extra=("--no-cors",))
    try:
        page.goto(f"{app_origin}/index.html?mock={blocked.url}")
        page.wait_for_function("document.getElementById('login').textContent.startsWith('failed')")
        page.screenshot(path=str(screenshots / "cors-app-no-cors.png"))
    finally:
        blocked.stop()
    assert [line for line in page.console_lines if "blocked by CORS policy" in line]


def test_swagger_ui_authorizes_and_runs_an_index_call(page: Any, mock: RunningMock, screenshots: Path) -> None:
    page.goto(f"{mock.url}/docs/")
    page.click("button.authorize")
    page.fill("#oauth_username", "demo")
    page.fill("#oauth_password", "demo")
    oauth = page.locator(".auth-container").filter(has_text="OAuth2, password")
    oauth.locator("button.authorize").click()
    oauth.locator("h6", has_text="Authorized").wait_for()  # the password flow got a token
    oauth.locator("button.btn-done").click()
    operation = page.locator("#operations-Action-action_index")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("textarea.body-param__text").fill('{"per-page": 5, "sort": "code"}')  # the example's office is the bundled seed's
    operation.locator("button.execute").click()
    answer = operation.locator(".live-responses-table tbody tr.response")
    answer.wait_for()
    answer.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "swagger-ui-index.png"))
    assert answer.locator(".response-col_status").inner_text().strip() == "200"
    body = json.loads(answer.locator(".response-col_description pre.microlight").first.inner_text())
    assert [action["code"] for action in body] == sorted(action["code"] for action in body) and len(body) == 3
    assert f"x-pagination-total-count: {SMALL_WORLD_ACTIONS}" in answer.inner_text().lower()


def _status_on_the_dashboard(page: Any, subscription_id: str) -> str:
    return page.locator(f'#resource-action-subscription tr[data-id="{subscription_id}"] td.status').inner_text()


def test_moving_the_clock_from_the_dashboard_turns_a_valid_entry_into_expiring(
        page: Any, mock: RunningMock, screenshots: Path) -> None:
    try:
        page.goto(f"{mock.url}/__mock/")
        assert page.text_content("#today") == TODAY.isoformat()
        assert _status_on_the_dashboard(page, SUB_1) == "VALID"  # its certificate expires 2030-01-10
        page.screenshot(path=str(screenshots / "dashboard-before.png"), full_page=True)
        page.fill("#clock-today", "2029-12-01")  # within the action's 90-day expiring interval
        with page.expect_navigation():
            page.click("#clock-set")
        assert page.text_content("#today") == "2029-12-01"
        assert _status_on_the_dashboard(page, SUB_1) == "EXPIRING"
        page.screenshot(path=str(screenshots / "dashboard-after-clock.png"), full_page=True)
        with httpx.Client(base_url=mock.url, trust_env=False) as client:
            assert client.get("/__mock/clock").json() == {"today": "2029-12-01", "fixed": True}
    finally:
        with httpx.Client(base_url=mock.url, trust_env=False) as client:
            client.put("/__mock/clock", json={"today": TODAY.isoformat()})

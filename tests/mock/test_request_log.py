"""The request log ring and its excerpts, in-process."""

from __future__ import annotations

from mock_server.request_log import BODY_EXCERPT_BYTES, REQUEST_LOG_SIZE, LoggedRequest, RequestFilter, RequestLog, body_excerpt


def entry(number: int, status: int = 200, path: str = "/v2/action/index") -> LoggedRequest:
    return LoggedRequest(id=number, time=1_780_000_000.5, workspace="default", method="POST", path=path, query="",
                         request_head=b"{}", request_bytes=2, status=status, response_head=b"[]", response_bytes=2,
                         duration_ms=1.0)


def test_the_ring_keeps_the_newest_entries_newest_first() -> None:
    log = RequestLog(size=3)
    for number in range(1, 6):
        log.add(entry(number))
    assert [e.id for e in log.newest_first()] == [5, 4, 3]
    assert len(log) == 3


def test_the_default_ring_is_bounded() -> None:
    log = RequestLog()
    for number in range(REQUEST_LOG_SIZE + 10):
        log.add(entry(number))
    assert len(log) == REQUEST_LOG_SIZE
    assert log.newest_first(limit=1)[0].id == REQUEST_LOG_SIZE + 9


def test_filters_and_limit() -> None:
    log = RequestLog()
    for number, status in enumerate([200, 404, 422, 500, 201], start=1):
        log.add(entry(number, status, path=f"/v2/action/view/{number}" if status == 404 else "/v2/action/create"))
    assert [e.id for e in log.newest_first(RequestFilter(status=4))] == [3, 2]
    assert [e.id for e in log.newest_first(RequestFilter(status=500))] == [4]
    assert [e.id for e in log.newest_first(RequestFilter(path="/view/"))] == [2]
    assert [e.id for e in log.newest_first(RequestFilter(status=2), limit=1)] == [5]


def test_an_excerpt_says_how_long_the_body_was_and_survives_bad_utf8() -> None:
    assert body_excerpt(b"abc", 3) == "abc"
    assert body_excerpt(b"x" * BODY_EXCERPT_BYTES, 10_000) == "x" * BODY_EXCERPT_BYTES + "... (10000 bytes)"
    cut = body_excerpt(b"x" * BODY_EXCERPT_BYTES, 70_000, at_least=True)
    assert cut == "x" * BODY_EXCERPT_BYTES + "... (at least 70000 bytes)"
    assert body_excerpt(b"\xff\xfe", 2) == "\ufffd\ufffd"
    assert entry(1).as_json()["time"] == "2026-05-28T20:26:40.500Z"


def test_tokens_and_passwords_are_not_shown() -> None:
    login = LoggedRequest(id=1, time=1_780_000_000.5, workspace="default", method="POST",
                          path="/realms/4hse/protocol/openid-connect/token", query="access-token=mock-token&x=1",
                          request_head=b"grant_type=password&username=demo&password=s3cret", request_bytes=49,
                          status=200, response_head=b"{}", response_bytes=2, duration_ms=1.0)
    shown = login.as_json()
    assert shown["query"] == "access-token=***&x=1"
    assert shown["request_body"] == "grant_type=password&username=demo&password=***"
    assert "s3cret" not in str(shown) and "mock-token" not in str(shown)


def test_a_request_is_in_the_log_before_the_last_bytes_of_its_answer_leave() -> None:
    """A client that has its whole answer finds its request in the log: the entry is added before
    the answer's last body message is sent, not after the app returns."""
    import asyncio

    from mock_server.request_log import Recorder

    log = RequestLog()
    logged_when_sent: list[tuple[bool, int]] = []

    async def app(scope: dict, receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"[", "more_body": True})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"]"})  # type: ignore[operator]

    async def receive() -> dict:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.body":
            logged_when_sent.append((message.get("more_body", False), len(log)))

    scope = {"type": "http", "method": "POST", "path": "/v2/action/index", "query_string": b"", "headers": []}
    recorder = Recorder(scope, receive, send, lambda answered: log.add(answered.entry("default", 0.001)))
    asyncio.run(app(scope, recorder.receive, recorder.send))
    recorder.log_once()  # as the middleware does when the app returns: no second entry
    assert logged_when_sent == [(True, 0), (False, 1)]
    assert [(e.status, e.response_bytes) for e in log.newest_first()] == [(200, 2)]

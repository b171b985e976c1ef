"""Retry classification and policy: what is retried, how long it waits, how it gives up."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from erpsync.errors import (
    AuthError,
    FatalError,
    RateLimitedError,
    RetriableError,
)
from erpsync.http.ratelimit import parse_retry_after
from erpsync.http.retry import RetryPolicy, is_retriable

ML_429 = {"message": "Too many requests", "error": "local_rate_limited", "status": 429, "cause": []}
AMAZON_429 = {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota."}]}


def respond(status: int, body: object = None, headers: dict[str, str] | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body if body is not None else {}, headers=headers)

    return handler


def fail_with(error: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error("boom", request=request)

    return handler


CASES = [
    # (id, handler, expected error, attempts made, waits recorded, message)
    (
        "connection error",
        fail_with(httpx.ConnectError),
        RetriableError,
        3,
        [0.5, 1.0],
        "x1 GET /orders: connection failed (ConnectError: boom) (gave up after 3 attempts)",
    ),
    (
        "read timeout",
        fail_with(httpx.ReadTimeout),
        RetriableError,
        3,
        [0.5, 1.0],
        "x1 GET /orders: timed out (ReadTimeout) (gave up after 3 attempts)",
    ),
    (
        "429 with Retry-After",
        respond(429, ML_429, {"Retry-After": "7"}),
        RateLimitedError,
        3,
        [7.0, 7.0],
        "x1 GET /orders: HTTP 429: local_rate_limited: Too many requests "
        "(gave up after 3 attempts)",
    ),
    (
        "429 without Retry-After",
        respond(429, AMAZON_429),
        RateLimitedError,
        3,
        [0.5, 1.0],
        "x1 GET /orders: HTTP 429: QuotaExceeded: You exceeded your quota. "
        "(gave up after 3 attempts)",
    ),
    (
        "500",
        respond(500, {"message": "internal"}),
        RetriableError,
        3,
        [0.5, 1.0],
        "x1 GET /orders: HTTP 500: internal (gave up after 3 attempts)",
    ),
    (
        "502 HTML",
        lambda r: httpx.Response(502, text="<html>Bad Gateway</html>"),
        RetriableError,
        3,
        [0.5, 1.0],
        "x1 GET /orders: HTTP 502: <html>Bad Gateway</html> (gave up after 3 attempts)",
    ),
    (
        "400",
        respond(400, {"message": "invalid date", "error": "bad_request", "status": 400}),
        FatalError,
        1,
        [],
        "x1 GET /orders: HTTP 400: bad_request: invalid date",
    ),
    (
        "404",
        respond(404, {"message": "not found"}),
        FatalError,
        1,
        [],
        "x1 GET /orders: HTTP 404: not found",
    ),
    (
        "401",
        respond(401, {"message": "invalid token"}),
        AuthError,
        1,
        [],
        "x1 GET /orders: HTTP 401: invalid token",
    ),
    (
        "403",
        respond(403, {"errors": [{"code": "Unauthorized", "message": "Access denied"}]}),
        AuthError,
        1,
        [],
        "x1 GET /orders: HTTP 403: Unauthorized: Access denied",
    ),
    (
        "2xx not JSON",
        lambda r: httpx.Response(200, text='{"results": ['),
        RetriableError,
        3,
        [0.5, 1.0],
        "x1 GET /orders: HTTP 200 with a body that is not JSON (gave up after 3 attempts)",
    ),
]


@pytest.mark.parametrize(
    ("handler", "error", "attempts", "waits", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_classification(mock_connector, handler, error, attempts, waits, message):
    """requirement: transport errors, timeouts, 429 and 5xx are retried (honouring Retry-After);
    other 4xx fail at once; the final message names connector, endpoint and attempts."""
    calls = []

    def counting(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return handler(request)

    policy = RetryPolicy.instant(attempts=3)
    connector = mock_connector(counting, policy=policy)
    with pytest.raises(error) as raised:
        connector.request("GET", "/orders", params={"access_token": "abcd1234"})
    assert type(raised.value) is error
    assert str(raised.value) == message
    assert len(calls) == attempts
    assert policy.waits == waits


def test_recovers_after_transient_failures(mock_connector):
    """requirement: a request that fails transiently and then succeeds returns the success."""
    answers = iter(
        [httpx.Response(503), httpx.Response(429, json=ML_429), httpx.Response(200, json=[1])]
    )
    policy = RetryPolicy.instant()
    connector = mock_connector(lambda r: next(answers), policy=policy)
    assert connector.request("GET", "/orders").json() == [1]
    assert policy.waits == [0.5, 1.0]


def test_rate_limited_error_carries_retry_after(mock_connector):
    """requirement: RateLimitedError.retry_after is the server's Retry-After in seconds."""
    connector = mock_connector(
        respond(429, ML_429, {"Retry-After": "12"}), policy=RetryPolicy.instant(1)
    )
    with pytest.raises(RateLimitedError) as raised:
        connector.request("GET", "/orders")
    assert raised.value.retry_after == 12.0
    assert raised.value.status_code == 429


def test_classify_error_hook_comes_first(mock_connector, connector_class, monkeypatch):
    """requirement: the connector's classify_error decides before the default table."""
    monkeypatch.setattr(
        connector_class,
        "classify",
        staticmethod(lambda r: FatalError("order is locked") if r.status_code == 409 else None),
    )
    connector = mock_connector(respond(409, {}), policy=RetryPolicy.instant())
    with pytest.raises(FatalError) as raised:
        connector.request("PUT", "/orders/1")
    assert str(raised.value) == "x1 PUT /orders/1: order is locked"
    assert raised.value.status_code == 409


def test_expect_json_false_accepts_any_body(mock_connector):
    """requirement: expect_json=False skips the JSON check (204s, CSV downloads)."""
    connector = mock_connector(lambda r: httpx.Response(200, text="a,b"))
    assert connector.request("GET", "/report", expect_json=False).text == "a,b"


def test_long_platform_messages_are_truncated(mock_connector):
    """requirement: quoted platform messages stay one short line."""
    connector = mock_connector(respond(400, {"message": "x " * 400}))
    with pytest.raises(FatalError) as raised:
        connector.request("GET", "/orders")
    assert len(str(raised.value)) < 340
    assert str(raised.value).endswith("…")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RetriableError("x"), True),
        (RateLimitedError("x"), True),
        (httpx.ConnectError("x"), True),
        (FatalError("x"), False),
        (AuthError("x"), False),
        (ValueError("x"), False),
    ],
)
def test_is_retriable(error, expected):
    """requirement: one function decides what is retried."""
    assert is_retriable(error) is expected


def test_waits_grow_exponentially_and_are_capped():
    """requirement: back-off doubles from initial_wait up to max_wait; Retry-After is capped."""
    policy = RetryPolicy(initial_wait=1, max_wait=10, jitter=False)
    assert [policy.wait_seconds(n, RetriableError("x")) for n in range(1, 7)] == [
        1,
        2,
        4,
        8,
        10,
        10,
    ]
    assert policy.wait_seconds(1, RateLimitedError("x", retry_after=300)) == 10
    assert policy.wait_seconds(1, RateLimitedError("x", retry_after=3)) == 3


def test_full_jitter_stays_within_the_ceiling():
    """requirement: jittered waits are uniform in [0, ceiling]."""
    policy = RetryPolicy(initial_wait=1, max_wait=60)
    waits = [policy.wait_seconds(3, RetriableError("x")) for _ in range(200)]
    assert all(0 <= w <= 4 for w in waits)
    assert len(set(waits)) > 100


def test_non_retriable_errors_are_not_retried():
    """requirement: a FatalError is raised on the first attempt, unchanged."""
    policy = RetryPolicy.instant()
    calls = []

    def fn():
        calls.append(1)
        raise FatalError("nope")

    with pytest.raises(FatalError, match=r"^nope$"):
        policy.retrying()(fn)
    assert calls == [1]


def _script(*outcomes: Exception | str) -> Callable[[], str]:
    """A call that raises or returns the given outcomes in turn, recording each attempt."""
    queue = list(outcomes)

    def fn() -> str:
        outcome = queue.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return fn


CALL_SCRIPTS = [
    # (id, outcomes, idempotent)
    ("succeeds at once", ["ok"], True),
    ("recovers on the third attempt", [RetriableError("a"), RetriableError("b"), "ok"], True),
    ("gives up", [RetriableError(str(n)) for n in range(4)], True),
    ("429 with Retry-After", [RateLimitedError("slow", retry_after=7), "ok"], True),
    ("refused at once", [FatalError("nope"), "never"], True),
    ("a create's 429 is retried", [RateLimitedError("slow"), "ok"], False),
    ("a create's lost answer is raised", [RetriableError("lost"), "never"], False),
]


@pytest.mark.parametrize(
    ("outcomes", "idempotent"),
    [case[1:] for case in CALL_SCRIPTS],
    ids=[case[0] for case in CALL_SCRIPTS],
)
def test_call_does_what_retrying_does(outcomes, idempotent, caplog):
    """requirement: ``policy.call`` (the first attempt made without tenacity) returns, raises,
    waits and logs exactly as ``policy.retrying()`` does, attempt for attempt."""
    caplog.set_level(logging.INFO, "erpsync.http")
    seen = []
    for run in ("retrying", "call"):
        policy = RetryPolicy.instant(attempts=4)
        fresh = [type(o)(*o.args) if isinstance(o, Exception) else o for o in outcomes]
        for new, old in zip(fresh, outcomes, strict=True):
            if isinstance(old, RateLimitedError):
                new.retry_after = old.retry_after
        fn = _script(*fresh)
        caplog.clear()
        try:
            if run == "call":
                result: object = policy.call(fn, idempotent=idempotent)
            else:
                result = policy.retrying(idempotent=idempotent)(fn)
        except Exception as exc:
            result = (type(exc), str(exc))
        seen.append((result, list(policy.waits), [r.getMessage() for r in caplog.records]))
    assert seen[1] == seen[0]
    if len(outcomes) > 1 and not isinstance(outcomes[0], FatalError) and idempotent:
        assert seen[0][1], "the script retried (waits recorded)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5.0), ("0", 0.0), ("1.5", 1.5), ("", None), (None, None), ("soon", None), ("-3", 0.0)],
)
def test_parse_retry_after_seconds(value, expected):
    """requirement: Retry-After as delta-seconds."""
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date():
    """requirement: Retry-After as an HTTP date counts from now."""
    now = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(header, now=now.timestamp()) == 30.0


def test_a_create_is_retried_on_429_but_a_lost_answer_is_raised(mock_connector):
    """requirement: idempotent=False (a create) retries a 429, which stored nothing, but a 5xx
    or a dropped connection may come after the platform stored it: it is raised at once, for
    the caller to look the record up before sending it again."""
    answers = iter([httpx.Response(429, json=ML_429), httpx.Response(502)])
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return next(answers)

    connector = mock_connector(handler, policy=RetryPolicy.instant())
    with pytest.raises(RetriableError):
        connector.request("POST", "/orders", json={}, idempotent=False)
    assert len(calls) == 2

    def dropped(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.RemoteProtocolError("peer closed connection")

    calls.clear()
    connector = mock_connector(dropped, policy=RetryPolicy.instant())
    with pytest.raises(RetriableError):
        connector.request("POST", "/orders", json={}, idempotent=False)
    assert len(calls) == 1

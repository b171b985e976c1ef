"""The emulator base class: recording, sandbox seeding, signed tokens, token buckets."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest

from erpsync.emulation import EmulatorTransport, FaultPlan, TokenBucket, sign_token, verify_token
from erpsync.emulation.transport import request_sent_at

T0_ACCESS = {"user": 1}


def test_recorder_keeps_every_request(client, emulator):
    """requirement: each request is recorded with method, path, query, headers, body, status."""
    client.post("/echo?a=1&a=2&b=x", json={"quantity": 3}, headers={"X-Trace": "t1"})
    client.put("/echo", data={"grant_type": "refresh_token", "x": ""})
    first, second = emulator.requests
    assert (first.method, first.path, first.status) == ("POST", "/echo", 200)
    assert first.query == {"a": ["1", "2"], "b": ["x"]}
    assert first.params == {"a": "2", "b": "x"}
    assert first.headers["x-trace"] == "t1"
    assert first.json() == {"quantity": 3}
    assert second.form() == {"grant_type": "refresh_token", "x": ""}
    assert emulator.requests_to("/echo", "put") == [second]
    assert emulator.requests_to("/orders") == []


def test_routes_still_read_the_body(client):
    """requirement: recording consumes the body without hiding it from the route."""
    response = client.post("/oauth/token", data={"refresh_token": "nonsense"})
    assert response.json() == {"error": "invalid_grant"}


def test_default_sandbox_account_is_seeded(clock, emulator_class):
    """requirement: with defaults an emulator holds a few orders over the last days."""
    emulator = emulator_class(clock=clock)
    assert len(emulator.orders) == 10
    assert min(emulator.orders.values()) == clock.now() - timedelta(days=7)
    assert max(emulator.orders.values()) < clock.now()


def test_signed_tokens_round_trip(clock):
    """requirement: tokens are stateless: a valid signature, the kind and expiry are checked."""
    token = sign_token("k1", "access", {"user": 7}, clock.now() + timedelta(hours=1))
    assert verify_token("k1", "access", token, clock.now()) == {"user": 7}
    assert verify_token("other", "access", token, clock.now()) is None
    assert verify_token("k1", "refresh", token, clock.now()) is None
    assert verify_token("k1", "access", token, clock.now() + timedelta(hours=1)) is None
    body, _, signature = token.partition(".")
    assert verify_token("k1", "access", body[:-2] + "xx." + signature, clock.now()) is None
    assert verify_token("k1", "access", "garbage", clock.now()) is None
    assert token != sign_token("k1", "access", {"user": 7}, clock.now() + timedelta(hours=1))
    assert all(c.isalnum() or c in "-_." for c in token)


def test_a_fresh_emulator_accepts_tokens_of_the_previous_run(clock, emulator_class, emulator):
    """requirement: a new sandbox emulator (next CLI run) accepts tokens issued by the last one;
    refresh tokens stay single-use within one emulator's life."""
    refresh = emulator.credentials()["refresh_token"]
    nxt = emulator_class(seed=3, clock=clock, sandbox_orders=0)
    assert nxt.read_token("refresh", refresh) == {"user": 1, "gen": 0}
    assert emulator_class(seed=4, clock=clock).read_token("refresh", refresh) is None
    assert nxt.use_once(refresh) is True
    assert nxt.use_once(refresh) is False


def test_expire_access_tokens_revokes_issued_ones(emulator):
    """requirement: expire_access_tokens() invalidates access tokens issued so far only."""
    old = emulator.issue_token("access", T0_ACCESS)
    refresh = emulator.issue_token("refresh", T0_ACCESS)
    emulator.expire_access_tokens()
    assert emulator.read_token("access", old) is None
    assert emulator.read_token("refresh", refresh) is not None
    assert emulator.read_token("access", emulator.issue_token("access", T0_ACCESS)) is not None
    assert emulator.read_token("access", None) is None


def test_token_bucket_with_fake_clock_and_time_scale():
    """requirement: an emulator's bucket allows a burst, then refills at rate x time_scale."""
    now = [0.0]
    bucket = TokenBucket(1.0, 2, clock=lambda: now[0], time_scale=10)
    assert [bucket.try_take() for _ in range(3)] == [True, True, False]
    assert bucket.wait_time() == pytest.approx(0.1)
    now[0] += 0.1
    assert bucket.try_take() is True
    assert bucket.try_take() is False


def test_fault_plan_is_consumed_in_order_and_filtered_by_path():
    """requirement: faults apply to the next matching requests, ``times`` times each."""
    plan = FaultPlan().add("status", times=2, path="/orders").add("drop")
    assert plan.pending == 3
    assert plan.take("/items").kind == "drop"
    assert plan.take("/items") is None
    assert [plan.take("/orders/1").kind for _ in range(2)] == ["status", "status"]
    assert plan.take("/orders") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"kind": "explode"},
            "unknown fault kind 'explode'; known: status, rate_limit, delay, "
            "drop, malformed_json, expire_token, lost_answer",
        ),
        ({"kind": "status", "times": 0}, "times must be at least 1, got 0"),
    ],
)
def test_fault_plan_rejects_bad_faults(kwargs, message):
    """requirement: a typo in a test's fault fails loudly."""
    kind = kwargs.pop("kind")
    with pytest.raises(ValueError) as raised:
        FaultPlan().add(kind, **kwargs)
    assert str(raised.value) == message


# -- the latency knob ------------------------------------------------------------------------


def _recording_legs(emulator) -> list[float]:
    legs: list[float] = []

    async def record(seconds: float) -> None:
        legs.append(seconds)

    emulator.latency.sleep = record
    return legs


def test_an_emulator_answers_at_once_by_default(client, emulator):
    legs = _recording_legs(emulator)
    client.get("/orders", headers={"Authorization": "Bearer nothing"})
    assert legs == []


def test_a_fixed_latency_delays_every_request_half_in_half_out(client, emulator):
    """requirement: latency.set(s) puts a round trip of s on every answer, errors included,
    split between the way in and the way back."""
    legs = _recording_legs(emulator)
    emulator.latency.set(0.15)
    client.get("/orders", headers={"Authorization": "Bearer nothing"})  # a 401
    client.post("/oauth/token", data={"refresh_token": "nonsense"})
    assert legs == pytest.approx([0.075] * 4)
    assert emulator.latency.delays == pytest.approx([0.15, 0.15])


def test_a_jittered_latency_varies_within_its_bounds_and_repeats_with_its_seed(
    client, emulator, emulator_class, clock
):
    """requirement: latency.set(s, jitter) draws each round trip from [s, s + jitter],
    reproducibly for the same emulator seed."""
    _recording_legs(emulator)
    emulator.latency.set(0.1, jitter=0.2)
    for _ in range(20):
        client.post("/oauth/token", data={"refresh_token": "nonsense"})
    delays = emulator.latency.delays
    assert all(0.1 <= d <= 0.3 for d in delays)
    assert len(set(delays)) > 1
    twin = emulator_class(clock=clock, seed=emulator.seed, sandbox_orders=0).latency.set(
        0.1, jitter=0.2
    )
    assert [twin.draw() for _ in range(20)] == delays


def test_a_round_trip_that_includes_work_shortens_the_way_back_by_the_apps_time(client, emulator):
    """requirement: with includes_work, the answer comes a round trip after the request,
    the emulator's own work included (a platform's answer time includes its servers'); the
    way back never goes below zero. Without it, the work comes on top (the default)."""
    legs = _recording_legs(emulator)
    # the request's start, the way in's start, the response's start (the way in slept exactly)
    readings = iter([10.0, 10.0, 10.095, 20.0, 20.0, 20.575])
    emulator.latency.monotonic = lambda: next(readings)
    emulator.latency.sent_at = lambda: None  # as over a socket: the middleware's arrival
    emulator.latency.set(0.15)
    emulator.latency.includes_work = True
    client.post("/oauth/token", data={"refresh_token": "nonsense"})  # 20 ms of work
    client.post("/oauth/token", data={"refresh_token": "nonsense"})  # 500 ms: over the leg
    emulator.latency.includes_work = False
    client.post("/oauth/token", data={"refresh_token": "nonsense"})
    assert legs == pytest.approx([0.075, 0.055, 0.075, 0.0, 0.075, 0.075])


def test_a_round_trip_that_includes_work_counts_the_transports_hop_and_the_oversleep_within(
    client, emulator
):
    """requirement: with includes_work, the round trip runs from when the in-process transport
    took the request: its hop into the emulator's event loop shortens the way in, and a way in
    that overslept shortens the way back, as no network adds either on top of its round trip."""
    legs = _recording_legs(emulator)
    # taken by the transport at 9.99, seen by the middleware at 10.0 (a 10 ms hop); the
    # response starts at 10.09: the way in overslept 5 ms and the app worked 10 ms
    readings = iter([10.0, 10.09])
    emulator.latency.monotonic = lambda: next(readings)
    emulator.latency.sent_at = lambda: 9.99
    emulator.latency.set(0.15)
    emulator.latency.includes_work = True
    client.post("/oauth/token", data={"refresh_token": "nonsense"})
    assert legs == pytest.approx([0.065, 0.05])


def test_the_transport_tells_the_app_when_it_took_the_request():
    """requirement: request_sent_at() is, within the app serving a request through
    EmulatorTransport, when the transport took it (time.monotonic); None elsewhere."""
    seen: list[float | None] = []

    async def app(scope, receive, send):
        seen.append(request_sent_at())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = EmulatorTransport(app)
    try:
        with httpx.Client(transport=transport, base_url="http://emulator.test") as http:
            before = time.monotonic()
            http.get("/")
            after = time.monotonic()
            http.get("/")
    finally:
        transport.close()
    assert seen[0] is not None and before <= seen[0] <= after
    assert seen[1] is not None and seen[1] >= after
    assert request_sent_at() is None


def test_latency_cannot_be_negative(emulator):
    with pytest.raises(ValueError, match="negative"):
        emulator.latency.set(-0.1)

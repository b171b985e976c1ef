"""Bling's limits: 3 requests per second per account (429 TOO_MANY_REQUESTS, retried after a
pause) and a daily quota (its 429 stops the run with a clear message)."""

from __future__ import annotations

import pytest

from erpsync.connectors.bling import BlingConnector
from erpsync.connectors.bling.emulator import BlingEmulator
from erpsync.errors import FatalError
from erpsync.testing import build_harness


def test_the_connector_paces_itself_under_three_per_second(harness, time):
    """requirement: 30 calls in a row meet no 429 and take about 10 s of (simulated) time."""
    harness.connector.check()
    start = time.monotonic()
    for _ in range(30):
        harness.connector.request("GET", "/situacoes/modulos")
    assert [r for r in harness.emulator.requests if r.status == 429] == []
    assert time.monotonic() - start >= 9.0


def test_a_429_is_retried_after_a_pause(harness):
    """requirement: the per-second 429 (no Retry-After) pauses and retries."""
    harness.connector.check()
    harness.emulator.faults.add("rate_limit", times=2)
    assert harness.connector.request("GET", "/situacoes/modulos").status_code == 200
    assert sum(1 for r in harness.emulator.requests if r.status == 429) == 2


def test_the_emulator_enforces_the_per_second_limit(emulator, time):
    """requirement: the emulator refuses the 4th request within the same instant (a client
    whose own limiter allows more is answered 429 with Bling's error body)."""
    h = build_harness(BlingConnector, emulator, time, options={"requests_per_second": 3})
    h.connector.check()
    h.connector.http.limiter("default").rate = 1000.0  # a client that does not pace
    h.connector.http.limiter("default").burst = 1000
    for _ in range(6):
        h.connector.request("GET", "/situacoes/modulos")
    refused = [r for r in emulator.requests if r.status == 429]
    assert refused
    h.connector.close()


def test_the_daily_quota_stops_the_run_with_a_clear_error(time):
    """requirement: the daily 429 is not retried: the run stops and says why."""
    emulator = BlingEmulator(seed=7, clock=time.now, daily_limit=3)
    h = build_harness(BlingConnector, emulator, time, name="bling")
    for _ in range(3):
        h.connector.request("GET", "/situacoes/modulos")
    with pytest.raises(FatalError) as raised:
        h.connector.request("GET", "/situacoes/modulos")
    assert str(raised.value) == (
        "bling GET /situacoes/modulos: Bling's daily request quota is used up "
        "(TOO_MANY_REQUESTS: O limite de requisições diárias foi atingido, tente novamente "
        "amanhã); erpsync will try again on the next run"
    )
    assert sum(1 for r in emulator.requests if r.status == 429) == 1
    time.advance(days=1)
    assert h.connector.request("GET", "/situacoes/modulos").status_code == 200
    h.connector.close()

"""A platform's rate limit across the steps of one run (``erpsync sync``).

Each step of a sync (pull-orders, push-orders, invoices pull, pull-stock, push-stock, ...)
opens its own connector objects through ``engine.runner.run_all``, but the platform counts
every request of the account against one bucket. The client's buckets must therefore outlive
the connector object: a step that starts right after another one spent the burst finds the
platform's bucket empty, and its own must be too.

Bling (3 requests a second per account, burst 3, enforced by its emulator with a 429) on
simulated time: the steps run back to back, as in a sync on a machine that wastes no time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from erpsync.config import parse_config
from erpsync.connectors.bling.emulator import BlingEmulator
from erpsync.emulation import EmulatorTransport
from erpsync.engine.runner import build_context, open_connector, run_all
from erpsync.http.retry import RetryPolicy
from erpsync.store import Store, open_store
from erpsync.testing import FakeTime


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def emulator(time: FakeTime) -> BlingEmulator:
    return BlingEmulator(seed=7, clock=time.now)


@pytest.fixture
def store() -> Iterator[Store]:
    opened = open_store("sqlite://")
    yield opened
    opened.close()


def _config(emulator: BlingEmulator, name: str = "erp", **settings: Any) -> Any:
    block = {
        "type": "bling",
        "base_url": "http://bling.test",
        "credentials": emulator.credentials(),
        "options": emulator.options(),
        **settings,
    }
    return parse_config({"connectors": {name: block}}, db="sqlite://", env={})


def _step(config: Any, store: Store, emulator: BlingEmulator, time: FakeTime, requests: int):
    """One step of a sync that sends ``requests`` requests: its own context and connector
    objects, as the CLI's steps build them (``build_context`` + ``run_all``), on the emulator
    and the simulated clock."""
    context = build_context(
        config,
        store,
        transport=EmulatorTransport(emulator.app),
        retry_policy=RetryPolicy(attempts=6, sleep=time.sleep, jitter=False),
        clock=time.now,
        sleep=time.sleep,
        monotonic=time.monotonic,
        concurrency=1,
    )
    [outcome] = run_all(
        config,
        store,
        ["erp"],
        "step",
        lambda c: [c.request("GET", "/situacoes/modulos") for _ in range(requests)],
        context=context,
    )
    assert outcome.ok, outcome.error
    return outcome


def _refused(emulator: BlingEmulator, since: int = 0) -> int:
    return sum(1 for r in emulator.requests[since:] if r.status == 429)


def test_a_step_right_after_another_does_not_overrun_the_account_s_bucket(
    emulator: BlingEmulator, store: Store, time: FakeTime
) -> None:
    """requirement: a sync's second step, started the moment the first one spent the
    account's burst, waits for the platform's refill instead of sending a burst of its own:
    no 429 at its start (the connector objects are new, the account's bucket is not)."""
    config = _config(emulator)
    _step(config, store, emulator, time, 10)  # spends the burst of 3, then paces at 3/s
    first = len(emulator.requests)
    assert _refused(emulator) == 0
    _step(config, store, emulator, time, 3)
    assert _refused(emulator, first) == 0


def test_another_account_of_the_same_platform_keeps_its_own_bucket(
    emulator: BlingEmulator, store: Store, time: FakeTime
) -> None:
    """requirement: the buckets are per account: a connector with other credentials, or
    another connector with the same ones (two stores authorised through one app: their tokens
    are stored under their names) is not slowed by what this one spent (its burst is whole),
    while the same account's next connector object finds the burst spent."""
    config = _config(emulator)
    _step(config, store, emulator, time, 10)
    other_app = {**emulator.credentials(), "client_id": "other-app"}
    cases = [
        (_config(emulator, credentials=other_app), "erp", 3.0),
        (_config(emulator, name="erp-2"), "erp-2", 3.0),
        (config, "erp", 0.0),
    ]
    for settings, name, tokens in cases:
        context = build_context(
            settings,
            store,
            transport=EmulatorTransport(emulator.app),
            clock=time.now,
            sleep=time.sleep,
            monotonic=time.monotonic,
        )
        with open_connector(settings, name, context) as connector:
            bucket = connector.limiter("default")  # type: ignore[attr-defined]
            assert bucket.tokens == pytest.approx(tokens, abs=0.01), name

"""Amazon tests: one simulated clock and one emulator per test (the emulator follows the clock)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from erpsync.connectors.amazon import AmazonConnector
from erpsync.connectors.amazon.emulator import AmazonEmulator
from erpsync.testing import FakeTime, Harness, build_harness


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def emu(time: FakeTime) -> AmazonEmulator:
    return AmazonEmulator(seed=7, clock=time.now, sandbox_orders=0)


@pytest.fixture
def harness(emu: AmazonEmulator, time: FakeTime) -> Iterator[Harness]:
    """The connector on the emulator, named "amz" (the post-sale tests)."""
    made = build_harness(AmazonConnector, emu, time, name="amz")
    yield made
    made.connector.close()
    made.store.close()


def pulled(harness: Harness, count: int = 10) -> list[str]:
    """Seed ``count`` orders over the last two days and pull them; their ids."""
    now = harness.time.now()
    ids = harness.emulator.seed_orders(count, start=now - timedelta(days=2), end=now)
    harness.time.advance(minutes=5)
    harness.pull()
    return ids

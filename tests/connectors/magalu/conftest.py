"""Magalu test wiring: the emulator in simulated time, connectors built by build_harness."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from erpsync.connectors.magalu import MagaluConnector
from erpsync.connectors.magalu.emulator import MagaluEmulator
from erpsync.testing import FakeTime, Harness, build_harness

NOW = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def time() -> FakeTime:
    return FakeTime(NOW)


@pytest.fixture
def emu(time: FakeTime) -> MagaluEmulator:
    return MagaluEmulator(seed=1, clock=time.now, sandbox_orders=0)


@pytest.fixture
def make_harness(emu: MagaluEmulator, time: FakeTime) -> Iterator[Callable[..., Harness]]:
    """``make_harness(**options)``: a connector named ``mg`` on ``emu`` (or ``emulator=``)."""
    made: list[Harness] = []

    def build(emulator: MagaluEmulator | None = None, **options: Any) -> Harness:
        made.append(
            build_harness(MagaluConnector, emulator or emu, time, name="mg", options=options)
        )
        return made[-1]

    yield build
    for harness in made:
        harness.connector.close()
        harness.store.close()


@pytest.fixture
def harness(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()

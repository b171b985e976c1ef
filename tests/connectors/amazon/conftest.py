"""Amazon tests: one simulated clock and one emulator per test (the emulator follows the clock)."""

from __future__ import annotations

import pytest

from erpsync.connectors.amazon.emulator import AmazonEmulator
from erpsync.testing import FakeTime


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def emu(time: FakeTime) -> AmazonEmulator:
    return AmazonEmulator(seed=7, clock=time.now, sandbox_orders=0)

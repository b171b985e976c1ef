"""What the Mercado Livre post-sale tests share: a connector on its emulator at a fixed time
(erpsync.testing.build_harness), retries instant."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from erpsync.connector import Window
from erpsync.connectors.mercadolivre import MercadoLivreConnector
from erpsync.connectors.mercadolivre.emulator import MercadoLivreEmulator
from erpsync.http.retry import RetryPolicy
from erpsync.store import Store
from erpsync.testing import FakeTime, Harness, build_harness

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(days=3), NOW)


@pytest.fixture
def time() -> FakeTime:
    return FakeTime(NOW)


@pytest.fixture
def emu(time: FakeTime) -> MercadoLivreEmulator:
    return MercadoLivreEmulator(seed=1, clock=time.now, sandbox_orders=0)


@pytest.fixture
def harness(emu: MercadoLivreEmulator, time: FakeTime) -> Iterator[Harness]:
    made = build_harness(
        MercadoLivreConnector, emu, time, name="ml", retry_policy=RetryPolicy.instant()
    )
    yield made
    made.connector.close()
    made.store.close()


@pytest.fixture
def ml(harness: Harness) -> MercadoLivreConnector:
    assert isinstance(harness.connector, MercadoLivreConnector)
    return harness.connector


@pytest.fixture
def store(harness: Harness) -> Store:
    return harness.store

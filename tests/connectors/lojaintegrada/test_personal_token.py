"""Loja Integrada's second credential set: the store's personal token, sent as
`Authorization: Basic <token>` instead of the chave_api/aplicacao pair, never with it."""

import base64
from datetime import timedelta

import httpx
import pytest
from pydantic import ValidationError

from erpsync.connector import NothingSeen, Window
from erpsync.connectors.lojaintegrada import LojaIntegradaConnector
from erpsync.connectors.lojaintegrada.emulator import LojaIntegradaEmulator
from erpsync.connectors.lojaintegrada.emulator.app import API_KEY, APP_KEY, PERSONAL_TOKEN
from erpsync.connectors.lojaintegrada.settings import LojaIntegradaCredentials
from erpsync.emulation import EmulatorTransport
from erpsync.engine.listings import pull_listings
from erpsync.engine.push import push_stock
from erpsync.errors import AuthError
from erpsync.store import ledger, products
from erpsync.testing import FakeTime, build_harness

TOKEN_ONLY = {"api_key": None, "app_key": None, "personal_token": PERSONAL_TOKEN}


@pytest.fixture
def time():
    return FakeTime()


@pytest.fixture
def emulator(time):
    return LojaIntegradaEmulator(seed=3, clock=time.now, sandbox_orders=0)


@pytest.fixture
def harness(emulator, time):
    h = build_harness(LojaIntegradaConnector, emulator, time, name="li", credentials=TOKEN_ONLY)
    yield h
    h.connector.close()
    h.store.close()


def window(h):
    return Window(h.time.now() - timedelta(days=2), h.time.now())


def test_every_call_carries_the_raw_personal_token_and_no_key_pair(harness):
    now = harness.time.now()
    harness.emulator.seed_orders(3, start=now - timedelta(days=1), end=now)
    harness.time.advance(minutes=5)
    harness.pull()
    pull_listings(harness.connector, harness.store)
    with harness.store.session() as session:
        for _, _, sku in harness.emulator.listing_refs():
            products.upsert_product(session, sku, name=sku)
            ledger.set_on_hand(session, sku, "main", 4)
    assert push_stock(harness.connector, harness.store, safety_stock=0).failed == 0
    calls = harness.emulator.requests_to("/v1/")
    assert {c.path.split("/")[2] for c in calls} >= {"pedido", "produto", "produto_estoque"}
    assert {c.headers["authorization"] for c in calls} == {f"Basic {PERSONAL_TOKEN}"}


def test_an_expired_personal_token_says_how_to_renew_it_without_showing_it(harness):
    """requirement: the token lives 3 months; once expired, a one-line auth error that says
    the store owner renews it, with the token masked."""
    harness.time.advance(days=91)
    with pytest.raises(AuthError, match="personal token refused") as caught:
        next(harness.connector.fetch_orders(window(harness), NothingSeen()))
    assert "Personal token" in str(caught.value) and "renews" in str(caught.value)
    assert PERSONAL_TOKEN not in str(caught.value)
    harness.emulator.renew_personal_token()
    assert harness.connector.check().startswith("authenticated")


@pytest.mark.parametrize(
    ("header", "refused"),
    [
        (f"Basic {PERSONAL_TOKEN}", False),
        (f"Basic {base64.b64encode(PERSONAL_TOKEN.encode()).decode()}", True),  # not encoded
        (f"Basic {PERSONAL_TOKEN} chave_api {API_KEY} aplicacao {APP_KEY}", True),  # a mix
        (f"Bearer {PERSONAL_TOKEN}", True),
        (f"chave_api {API_KEY} aplicacao {APP_KEY}", False),
    ],
    ids=["raw-token", "base64-token", "mixed", "bearer", "key-pair"],
)
def test_the_emulator_takes_exactly_one_of_the_two_schemes(emulator, header, refused):
    with httpx.Client(transport=EmulatorTransport(emulator.app), base_url="http://x") as c:
        answer = c.get("/v1/situacao", headers={"Authorization": header})
    assert (answer.status_code == 401) is refused


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"personal_token": "t", "api_key": "k", "app_key": "a"}, "not both"),
        ({"personal_token": "t", "app_key": "a"}, "not both"),
        ({"api_key": "k"}, "app_key: required"),
        ({}, "personal_token, or api_key and app_key: required"),
    ],
    ids=["token-and-pair", "token-and-app-key", "half-a-pair", "nothing"],
)
def test_one_credential_set_and_only_one(given, message):
    with pytest.raises(ValidationError, match=message):
        LojaIntegradaCredentials(**given)

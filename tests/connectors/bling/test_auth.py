"""Bling's OAuth2: Basic client auth on the token endpoint, refresh tokens that rotate on
every use (the old one refused), persisted rotation, and `connectors authorize`."""

from __future__ import annotations

import base64

import pytest

from erpsync.connectors.bling import BlingConnector
from erpsync.connectors.bling.connector import AUTHORIZATION_URL
from erpsync.connectors.bling.emulator.app import BOOTSTRAP_REFRESH, CLIENT_ID, CLIENT_SECRET
from erpsync.errors import AuthError
from erpsync.http.auth import MemoryTokenStore
from erpsync.testing import build_harness

TOKEN_PATH = "/Api/v3/oauth/token"


def test_the_token_call_sends_the_client_as_basic_and_the_grant_as_a_form(harness):
    """requirement: client_id:client_secret as HTTP Basic, never in the body; a form body."""
    harness.connector.check()
    (call,) = harness.emulator.requests_to(TOKEN_PATH)
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert call.headers["authorization"] == f"Basic {expected}"
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert call.form() == {"grant_type": "refresh_token", "refresh_token": BOOTSTRAP_REFRESH}


def test_a_rotated_refresh_token_is_persisted_and_the_old_one_is_dead(harness, emulator, time):
    """requirement: each refresh stores the new refresh token before use; the emulator refuses
    a refresh token used once, so a client that kept the old one would be locked out."""
    harness.connector.check()
    first = harness.tokens.load("bling")
    assert first is not None and first.refresh_token != BOOTSTRAP_REFRESH
    emulator.expire_access_tokens()
    harness.connector.request("GET", "/situacoes/modulos")
    second = harness.tokens.load("bling")
    assert second is not None and second.refresh_token != first.refresh_token
    assert harness.token_calls() == 2
    assert emulator.requests_to(TOKEN_PATH)[1].form()["refresh_token"] == first.refresh_token
    # the bootstrap token from the config was used once: a fresh store cannot use it again
    other = build_harness(BlingConnector, emulator, time, name="other", tokens=MemoryTokenStore())
    with pytest.raises(AuthError, match=r"refresh token was rejected \(invalid_grant"):
        other.connector.check()
    other.connector.close()


def test_an_access_token_expires_after_six_hours_and_is_refreshed_before_use(harness, time):
    """requirement: the stored expiry (expires_in 21600) triggers the refresh, no 401 first."""
    harness.connector.check()
    time.advance(hours=6)
    harness.connector.request("GET", "/situacoes/modulos")
    assert harness.token_calls() == 2
    assert all(r.status != 401 for r in harness.emulator.requests)


def test_wrong_client_credentials_say_so(emulator, time):
    """requirement: a wrong client secret is a clear error, never echoed."""
    h = build_harness(BlingConnector, emulator, time, credentials={"client_secret": "nope-1234"})
    with pytest.raises(AuthError) as raised:
        h.connector.check()
    assert "client credentials rejected (invalid_client" in str(raised.value)
    assert "nope-1234" not in str(raised.value)
    h.connector.close()


def test_authorize_prints_the_consent_url_and_trades_the_code(emulator, time):
    """requirement: `connectors authorize`: the consent URL carries response_type, client_id
    and state; the code is exchanged (Basic auth, once) and the tokens stored."""
    h = build_harness(
        BlingConnector, emulator, time, name="bling", credentials={"refresh_token": None}
    )
    url = h.connector.authorization_url("st4te")
    assert url.startswith(AUTHORIZATION_URL + "?response_type=code&client_id=sandbox-bling-app")
    assert "state=st4te" in url
    code = emulator.issue_authorization_code()
    assert h.connector.exchange_code(code).startswith("authorised with Bling")
    stored = h.tokens.load("bling")
    assert stored is not None and stored.refresh_token
    call = emulator.requests_to(TOKEN_PATH)[0]
    assert call.form()["grant_type"] == "authorization_code"
    assert "client_secret" not in call.form()
    with pytest.raises(AuthError, match="authorization code was rejected"):
        h.connector.exchange_code(code)
    h.connector.close()

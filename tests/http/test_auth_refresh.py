"""OAuth2 refresh: expiry, 401, rotation persisted first, single-flight, adoption, seeds."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from erpsync.emulation import EmulatorTransport
from erpsync.errors import AuthError, ConfigError
from erpsync.http.auth import MemoryTokenStore, OAuth2RefreshAuth, Tokens, fingerprint

REFRESH = "TG-refresh-initial"
SECRET = "client-secret-value"
T0 = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


def test_first_request_refreshes_and_persists_the_rotated_token(make_connector, server, store):
    """requirement: with only a refresh token configured, the first request obtains an access
    token, and the rotated refresh token is saved under the config token's fingerprint."""
    connector = make_connector()
    assert connector.request("GET", "/me").json() == {"id": 42}
    assert len(server.token_calls) == 1
    assert server.token_calls[0] == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_id": "app-123",
        "client_secret": SECRET,
    }
    stored = store.load("x1")
    assert stored is not None
    assert stored.refresh_token == "TG-refresh-0002"
    assert stored.access_token == "APP_USR-access-0001"
    assert stored.seed == fingerprint(REFRESH)
    assert server.requests_to("/oauth/token")[0].headers["content-type"] == (
        "application/x-www-form-urlencoded"
    )
    assert server.requests_to("/oauth/token")[0].headers["accept"] == "application/json"


def test_refresh_before_sending_when_stored_expiry_has_passed(make_connector, server, store, clock):
    """requirement: a token known to be expired (stored expires_at) is refreshed before the
    request is sent, so the platform never sees the stale token."""
    connector = make_connector()
    connector.request("GET", "/me")
    clock.advance(seconds=3600)  # expires_in=3600; within the leeway already
    connector.request("GET", "/me")
    assert len(server.token_calls) == 2
    assert _statuses(server) == [200, 200]


def test_refresh_once_on_401_then_retry(make_connector, server):
    """requirement: an access token rejected with 401 is refreshed once and the request resent."""
    connector = make_connector()
    connector.request("GET", "/me")
    server.expire_access_tokens()
    assert connector.request("GET", "/me").json() == {"id": 42}
    assert len(server.token_calls) == 2
    assert _statuses(server) == [200, 401, 200]


def test_second_401_is_an_auth_error_without_looping(make_connector, server):
    """requirement: if the fresh token is rejected too, the request fails with AuthError
    (one refresh per request, no loop, no retries)."""
    connector = make_connector()
    connector.request("GET", "/me")
    server.reject_all = True
    with pytest.raises(AuthError) as raised:
        connector.request("GET", "/me")
    assert str(raised.value) == "x1 GET /me: HTTP 401: invalid access token"
    assert len(server.token_calls) == 2
    assert _statuses(server) == [200, 401, 401]


def test_a_token_refreshed_for_the_request_is_not_refreshed_again(make_connector, server):
    """requirement: when the token was refreshed just before sending, a 401 is final."""
    connector = make_connector()
    server.reject_all = True
    with pytest.raises(AuthError):
        connector.request("GET", "/me")
    assert len(server.token_calls) == 1
    assert _statuses(server) == [401]


def test_rotated_token_is_persisted_before_the_new_access_token_is_used(
    make_connector, server, store
):
    """requirement: the store holds the new tokens by the time the platform sees the new access
    token (a crash after the refresh cannot lose the rotated refresh token)."""
    server.store = store
    connector = make_connector()
    connector.request("GET", "/me")
    server.expire_access_tokens()
    connector.request("GET", "/me")
    # requests with a fresh token: the store already had it each time
    assert server.seen_in_store == [True, True, True]


def test_two_threads_refreshing_at_once_make_one_token_call(make_connector, server):
    """requirement: refreshing is single-flight: concurrent requests share one token call."""
    connector = make_connector()
    server.token_delay = 0.05
    barrier = threading.Barrier(2)
    results: list[int] = []

    def call() -> None:
        barrier.wait()
        results.append(connector.request("GET", "/me").status_code)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200, 200]
    assert len(server.token_calls) == 1


def test_two_connectors_on_one_store_share_a_refresh(make_connector, server, store):
    """requirement: two runs sharing the store (threads or processes) make one token call."""
    first, second = make_connector(), make_connector()
    server.token_delay = 0.05
    barrier = threading.Barrier(2)

    def call(connector) -> None:
        barrier.wait()
        connector.request("GET", "/me")

    threads = [threading.Thread(target=call, args=(c,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(server.token_calls) == 1


def test_a_run_adopts_tokens_another_run_rotated(make_connector, server, store, clock):
    """requirement: a run whose loaded refresh token was rotated by another run since adopts the
    stored tokens instead of refreshing with its dead token."""
    first, second = make_connector(), make_connector()
    first.request("GET", "/me")
    second.request("GET", "/me")  # loads the tokens the first run stored
    clock.advance(seconds=3600)
    first.request("GET", "/me")  # rotates: the second run's refresh token is now dead
    assert len(server.token_calls) == 2
    second.request("GET", "/me")
    assert len(server.token_calls) == 2
    assert _statuses(server)[-1] == 200


def test_invalid_grant_asks_to_reauthorise_without_echoing_the_token(make_connector, caplog):
    """requirement: a rejected refresh token is an AuthError telling the user the command to
    re-authorise; neither the message nor the logs carry the token or the client secret."""
    caplog.set_level(logging.DEBUG)
    connector = make_connector(refresh_token="TG-revoked-token")
    with pytest.raises(AuthError) as raised:
        connector.request("GET", "/me")
    assert str(raised.value) == (
        "x1 POST /oauth/token: the refresh token was rejected (invalid_grant: bad token ***); "
        "re-authorise: erpsync connectors authorize x1"
    )
    assert raised.value.status_code == 400
    for text in (str(raised.value), caplog.text):
        assert "TG-revoked-token" not in text
        assert SECRET not in text


def test_config_token_wins_over_tokens_stored_from_another_seed(make_connector, server, store):
    """requirement: when the user puts a new refresh token in the config, it wins over the
    rotated one stored from the old config token."""
    store.save("x1", Tokens("old-access", "TG-from-old-config"), seed=fingerprint("TG-old"))
    connector = make_connector()
    connector.request("GET", "/me")
    assert server.token_calls[0]["refresh_token"] == REFRESH


def test_stored_tokens_win_when_they_descend_from_the_config_token(make_connector, server, store):
    """requirement: tokens stored from the same config token are used as they are."""
    server.refresh_tokens.add("TG-rotated")
    server.access_tokens.add("access-stored")
    store.save("x1", Tokens("access-stored", "TG-rotated"), seed=fingerprint(REFRESH))
    connector = make_connector()
    assert connector.request("GET", "/me").status_code == 200
    assert server.token_calls == []
    server.expire_access_tokens()
    connector.request("GET", "/me")
    assert server.token_calls[0]["refresh_token"] == "TG-rotated"


def test_platform_that_does_not_rotate_keeps_the_refresh_token(make_connector, server, store):
    """requirement: a token answer without refresh_token (Amazon LWA) keeps the old one."""
    server.rotate = False
    connector = make_connector()
    connector.request("GET", "/me")
    stored = store.load("x1")
    assert stored is not None and stored.refresh_token == REFRESH


def test_token_endpoint_5xx_is_retried(make_connector, server):
    """requirement: a failing token endpoint is a transient error, retried by the policy."""
    connector = make_connector()
    server.faults.add("status", path="/oauth/token", status=503)
    assert connector.request("GET", "/me").status_code == 200
    assert len(server.token_calls) == 1  # the faulted call never reached the route
    assert len(server.requests_to("/oauth/token")) == 2


def test_json_body_basic_client_auth_and_custom_header(
    make_connector, server, connector_class, monkeypatch
):
    """requirement: token body format, client authentication and the access-token header are
    configurable (e.g. Amazon's ``x-amz-access-token: <token>``)."""
    monkeypatch.setattr(
        connector_class,
        "auth_options",
        {
            "body_format": "json",
            "client_auth": "basic",
            "header": "x-amz-access-token",
            "value_format": "{}",
        },
    )
    connector = make_connector()
    connector.request("GET", "/me")
    token_request = server.requests_to("/oauth/token")[0]
    assert token_request.json() == {"grant_type": "refresh_token", "refresh_token": REFRESH}
    assert token_request.headers["authorization"].startswith("Basic ")
    assert server.requests_to("/me")[0].headers["x-amz-access-token"] == "APP_USR-access-0001"


def test_custom_expiry_signal(make_connector, server, connector_class, monkeypatch):
    """requirement: ``is_expired`` decides which responses mean "expired" (Amazon: a 403)."""
    monkeypatch.setattr(
        connector_class, "auth_options", {"is_expired": lambda r: r.status_code == 403}
    )
    connector = make_connector()
    connector.request("GET", "/me")
    server.expire_access_tokens()
    with pytest.raises(AuthError):  # the 401 is not "expired" for this platform
        connector.request("GET", "/me")
    assert len(server.token_calls) == 1


def test_exchange_code_stores_tokens(make_connector, server, store):
    """requirement: the authorization_code grant stores the tokens it obtains."""
    connector = make_connector(refresh_token=None)
    tokens = connector.http.oauth.exchange_code("TG-code", "https://localhost/cb", "verifier")
    assert server.token_calls[0] == {
        "grant_type": "authorization_code",
        "code": "TG-code",
        "redirect_uri": "https://localhost/cb",
        "code_verifier": "verifier",
        "client_id": "app-123",
        "client_secret": SECRET,
    }
    # no refresh token in the config: no seed, the stored tokens always apply
    assert store.load("x1") == tokens
    assert tokens.refresh_token == "TG-refresh-0002"
    assert connector.request("GET", "/me").status_code == 200
    assert len(server.token_calls) == 1


def test_no_refresh_token_anywhere_asks_to_authorise(make_connector):
    """requirement: without any refresh token the user is told to run authorize."""
    connector = make_connector(refresh_token=None)
    with pytest.raises(AuthError) as raised:
        connector.request("GET", "/me")
    assert str(raised.value) == (
        "x1 GET /me: no refresh token: re-authorise: erpsync connectors authorize x1"
    )


def test_tokens_repr_hides_secrets():
    """requirement: printing Tokens never shows the tokens."""
    text = repr(Tokens("access-secret", "refresh-secret", None))
    assert "secret" not in text


def test_memory_store_lock_is_per_key():
    """requirement: refresh locks of different keys do not block each other."""
    store = MemoryTokenStore()
    with store.refresh_lock("a"), store.refresh_lock("b"):
        pass


@pytest.mark.parametrize(
    ("tokens", "expired"),
    [
        (Tokens("", "r"), True),
        (Tokens("a", "r"), False),
        (Tokens("a", "r", T0 + timedelta(minutes=5)), False),
        (Tokens("a", "r", T0 + timedelta(seconds=30)), True),  # inside the 60 s leeway
        (Tokens("a", "r", T0 - timedelta(seconds=1)), True),
    ],
)
def test_token_expiry_with_leeway(tokens, expired):
    """requirement: a token is refreshed when it expires within the leeway."""
    assert tokens.expired(T0) is expired


def _statuses(server):
    return [r.status for r in server.requests_to("/me")]


def test_oauth_is_only_for_oauth_connectors(make_connector):
    """requirement: asking a non-OAuth connector for its OAuth flow is a clear config error."""
    connector = make_connector(oauth=False)
    with pytest.raises(ConfigError) as raised:
        _ = connector.http.oauth
    assert str(raised.value) == "connectors.x1: this connector does not use OAuth2"


def test_bad_authorization_code(make_connector):
    """requirement: a rejected authorization code says so and how to retry."""
    connector = make_connector(refresh_token=None)
    with pytest.raises(AuthError) as raised:
        connector.http.oauth.exchange_code("TG-wrong-code", "https://localhost/cb")
    assert str(raised.value) == (
        "x1 POST /oauth/token: the authorization code was rejected (invalid_grant); "
        "re-authorise: erpsync connectors authorize x1"
    )
    assert "TG-wrong-code" not in str(raised.value)


def test_rejected_client_credentials(server):
    """requirement: a wrong client secret is reported as such (not as a token problem), without
    echoing the secret; the flow also works outside a session with its own client."""
    with httpx.Client(transport=EmulatorTransport(server.app)) as client:
        auth = OAuth2RefreshAuth(
            token_url="https://auth.shop.test/oauth/token",
            client_id="app-123",
            client_secret="wrong-secret-value",
            refresh_token=REFRESH,
            key="x9",
            client=client,
        )
        with pytest.raises(AuthError) as raised:
            auth.current_tokens()
    assert str(raised.value) == (
        "x9 POST /oauth/token: client credentials rejected (invalid_client); "
        "check client_id and client_secret"
    )


def test_each_accepted_token_response_is_handed_over_after_it_is_stored(server):
    """requirement: fields a platform adds to its token response (ML's user_id) reach the
    connector through on_token_response, once per token obtained, after the store has the
    tokens; a refused grant hands nothing over."""
    store = MemoryTokenStore()
    answers: list[tuple[dict[str, object], int]] = []
    with httpx.Client(transport=EmulatorTransport(server.app)) as client:
        auth = OAuth2RefreshAuth(
            token_url="https://auth.shop.test/oauth/token",
            client_id="app-123",
            client_secret=SECRET,
            refresh_token=REFRESH,
            token_store=store,
            key="x9",
            client=client,
            on_token_response=lambda body: answers.append((dict(body), store.saves["x9"])),
        )
        tokens = auth.current_tokens()
        auth.current_tokens()  # still valid: no token call, nothing handed over
        with pytest.raises(AuthError):
            auth.exchange_code("TG-wrong-code", "https://localhost/cb")
    assert answers == [
        (
            {
                "access_token": tokens.access_token,
                "token_type": "bearer",
                "expires_in": 3600,
                "refresh_token": tokens.refresh_token,
            },
            1,
        )
    ]


def test_an_error_object_body_is_read_like_rfc6749_fields():
    """requirement: a token endpoint that answers {"error": {"type", "description"}} (Bling)
    is reported as the RFC 6749 code it names; a code exchange may name no redirect_uri."""
    sent: list[bytes] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        error = {"type": "invalid_grant", "message": "invalid_grant", "description": "Invalid code"}
        return httpx.Response(400, json={"error": error})

    with httpx.Client(transport=httpx.MockTransport(refuse)) as client:
        auth = OAuth2RefreshAuth(
            token_url="https://erp.test/oauth/token",
            client_id="app-1",
            client_secret=SECRET,
            key="erp",
            client_auth="basic",
            client=client,
        )
        with pytest.raises(AuthError) as raised:
            auth.exchange_code("code-1", None)
    assert str(raised.value) == (
        "erp POST /oauth/token: the authorization code was rejected (invalid_grant: Invalid "
        "code); re-authorise: erpsync connectors authorize erp"
    )
    assert sent == [b"grant_type=authorization_code&code=code-1"]


def test_the_account_a_token_response_names_is_stored_with_the_tokens(clock):
    """requirement (issue 11): with account_field, the account the token response names (ML's
    user_id, an integer) is kept with the tokens in the store; a refresh answer without it
    keeps the account of the tokens it refreshed; without account_field nothing is kept."""
    answers = iter(
        [
            {"access_token": "AT-1", "refresh_token": "RT-1", "expires_in": 60, "user_id": 42},
            {"access_token": "AT-2", "refresh_token": "RT-2", "expires_in": 60},
            {"access_token": "AT-3", "refresh_token": "RT-3", "expires_in": 60, "user_id": 42},
        ]
    )
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=next(answers)))

    def flow(store: MemoryTokenStore, **extra: str) -> OAuth2RefreshAuth:
        return OAuth2RefreshAuth(
            token_url="https://auth.shop.test/oauth/token",
            client_id="app-123",
            client_secret=SECRET,
            refresh_token=REFRESH,
            token_store=store,
            key="x9",
            client=client,
            clock=clock.now,
            **extra,
        )

    store = MemoryTokenStore()
    with httpx.Client(transport=transport) as client:
        assert flow(store, account_field="user_id").current_tokens().account == "42"
        assert store.load("x9").account == "42"
        clock.advance(seconds=60)  # expired: the next run refreshes, ML-style answer or not
        assert flow(store, account_field="user_id").current_tokens().account == "42"
        assert store.load("x9").access_token == "AT-2" and store.load("x9").account == "42"
        plain = MemoryTokenStore()
        assert flow(plain).current_tokens().account is None
        assert plain.load("x9").account is None

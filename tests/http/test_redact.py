"""Redaction: headers, query parameters, secret values and key/value pairs in text."""

from __future__ import annotations

import logging

import httpx
import pytest

from erpsync.errors import FatalError
from erpsync.http.redact import Redactor

SECRETS = ["APP_USR-123456-secret", "client+secret/value", "abc"]


@pytest.fixture
def redactor() -> Redactor:
    return Redactor(SECRETS)


@pytest.mark.parametrize(
    ("header", "masked"),
    [
        ("Authorization", True),
        ("authorization", True),
        ("x-amz-access-token", True),
        ("Cookie", True),
        ("Set-Cookie", True),
        ("x-api-key", True),
        ("X-Api-Key", True),
        ("gumgaToken", True),
        ("X-Client-Secret", True),
        ("Content-Type", False),
        ("x-amzn-RateLimit-Limit", False),
        ("X-RateLimit-Remaining", False),
        ("x-amzn-RequestId", False),
        ("User-Agent", False),
    ],
)
def test_headers(redactor, header, masked):
    """requirement: credential-bearing headers are masked, others kept as they are."""
    result = redactor.headers(httpx.Headers({header: "value-1"}))
    assert list(result.values()) == ["***" if masked else "value-1"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://api.x.com/orders?seller=1&access_token=abc123",
            "https://api.x.com/orders?seller=1&access_token=***",
        ),
        (
            "https://auth.x.com/token?code=TG-1&client_secret=s&refresh_token=r&password=p",
            "https://auth.x.com/token?code=***&client_secret=***&refresh_token=***&password=***",
        ),
        (
            "https://s3.x.com/f?X-Amz-Signature=ab&X-Amz-Credential=cd&X-Amz-Security-Token=ef",
            "https://s3.x.com/f?X-Amz-Signature=***&X-Amz-Credential=***&X-Amz-Security-Token=***",
        ),
        (
            "https://x.com/a?api_key=1&key=2&secret=3&token=4",
            "https://x.com/a?api_key=***&key=***&secret=***&token=***",
        ),
        ("https://user:pw@x.com/a", "https://***@x.com/a"),
        ("https://x.com/items/APP_USR-123456-secret", "https://x.com/items/***"),
        ("https://x.com/a?q=client%2Bsecret%2Fvalue", "https://x.com/a?q=***"),
        ("/relative/path?offset=50", "/relative/path?offset=50"),
    ],
)
def test_urls(redactor, url, expected):
    """requirement: sensitive query parameters, userinfo and known secrets vanish from URLs."""
    assert redactor.url(url) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("token APP_USR-123456-secret rejected", "token *** rejected"),
        ("Authorization: Bearer eyJhbGciOi.abc-def", "Authorization: Bearer ***"),
        ("basic YWxhZGRpbjpvcGVu", "basic ***"),
        (
            '{"access_token": "Atza|xyz", "expires_in": 3600}',
            '{"access_token": "***", "expires_in": 3600}',
        ),
        ("refresh_token=TG-55&client_secret=zz", "refresh_token=***&client_secret=***"),
        (
            '{"code": "QuotaExceeded", "message": "slow down"}',
            '{"code": "QuotaExceeded", "message": "slow down"}',
        ),
        ("the access token expired", "the access token expired"),
        ("abc is too short to be masked", "abc is too short to be masked"),
        ("see https://x.com/cb?code=TG-9&state=1.", "see https://x.com/cb?code=***&state=1."),
    ],
)
def test_text(redactor, text, expected):
    """requirement: secrets, credential schemes and secret key/value pairs are masked in text;
    ordinary words and short "secrets" are not (masking them would mangle every message)."""
    assert redactor.text(text) == expected


def test_learned_secrets(redactor):
    """requirement: secrets obtained at run time (a new access token) can be added."""
    redactor.add("fresh-access-token", None, "")
    assert redactor.text("got fresh-access-token") == "got ***"


def test_error_messages_and_logs_carry_no_secret(mock_connector, caplog):
    """requirement: a platform error echoing a secret, and the request log, stay masked."""
    caplog.set_level(logging.DEBUG, logger="erpsync")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"message": "bad key client-secret-value for TG-refresh-initial"}
        )

    connector = mock_connector(handler)
    with pytest.raises(FatalError) as raised:
        connector.request("GET", "/orders", params={"access_token": "live-token-1", "q": "1"})
    assert str(raised.value) == "x1 GET /orders: HTTP 400: bad key *** for ***"
    assert "GET https://api.shop.test/orders?access_token=***&q=1 -> 400" in caplog.text
    for secret in ("client-secret-value", "TG-refresh-initial", "live-token-1"):
        assert secret not in caplog.text

"""Masks secrets in headers, URLs and free text before anything is logged or raised.

Follows dlt's ``SENSITIVE_PARAMS`` + ``sanitize_url`` (dlt-hub/dlt:
dlt/sources/helpers/rest_client/redaction.py), extended with header masking and the config's
own secret values, so a token is masked wherever it turns up (a URL, an error body, a log line).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

import httpx

MASK = "***"

#: secrets shorter than this are not masked in free text: masking "1" or "abc" everywhere would
#: mangle every message while protecting nothing
MIN_SECRET_LENGTH = 4

SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-amz-access-token",
        "x-amz-security-token",
        "x-api-key",
        "api-key",
        "apikey",
        "x-access-token",
        "x-auth-token",
        "x-client-secret",
        "gumgatoken",
    }
)
#: any header whose name contains one of these words is masked too (vendor-specific key headers)
_SENSITIVE_HEADER_WORDS = re.compile(r"token|secret|api[-_]?key|password|signature|cookie|auth")

SENSITIVE_PARAMS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "token",
        "client_secret",
        "client_assertion",
        "code",
        "code_verifier",
        "password",
        "passwd",
        "api_key",
        "apikey",
        "app_key",
        "appkey",
        "key",
        "secret",
        "signature",
        "sig",
        "auth",
        "authorization",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
    }
)

#: keys masked in free text (bodies, messages). Narrower than SENSITIVE_PARAMS: "code" and "key"
#: are also ordinary words of error bodies (Amazon's `{"code": "QuotaExceeded"}`)
TEXT_KEYS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "client_assertion",
        "code_verifier",
        "password",
        "api_key",
        "apikey",
        "app_key",
        "x-amz-signature",
        "x-amz-security-token",
    }
)
_TEXT_KEY_NAMES = "|".join(sorted((re.escape(k) for k in TEXT_KEYS), key=len, reverse=True))
#: `"access_token": "abc"`, `refresh_token=abc`, `'client_secret': 'abc'` inside bodies/messages
_KEY_VALUE = re.compile(
    rf"""(?ix)
    (?<![\w-])(["']?(?:{_TEXT_KEY_NAMES})["']?\s*[:=]\s*["']?)   # the key and separator
    ([^"'&\s,;}}]+)                                               # the value
    """
)
_SCHEME_CREDENTIALS = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}")
_URL = re.compile(r"https?://[^\s\"'<>]+")


class Redactor:
    """Masks known secret values and secret-looking headers, params and key/value pairs.

    Args:
        secrets: values to mask wherever they occur (the config's SecretStr values, tokens).
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        """Learn more secret values (e.g. an access token obtained at run time)."""
        found = set(self._secrets)
        for secret in secrets:
            if not secret or len(secret) < MIN_SECRET_LENGTH:
                continue
            # a secret can travel URL-encoded (query strings, form bodies)
            found.update({secret, quote(secret, safe=""), quote_plus(secret)})
        # longest first, so a secret that contains another is masked whole
        self._secrets = sorted(found, key=len, reverse=True)

    def text(self, text: str) -> str:
        """Mask secret values, credential schemes and sensitive ``key=value`` pairs in text."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        text = _SCHEME_CREDENTIALS.sub(lambda m: f"{m.group(1)} {MASK}", text)
        text = _KEY_VALUE.sub(lambda m: f"{m.group(1)}{MASK}", text)
        return _URL.sub(lambda m: self._mask_query(m.group(0)), text)

    def url(self, url: str | httpx.URL) -> str:
        """The URL with sensitive query parameters and userinfo masked."""
        return self.text(self._mask_query(str(url)))

    def _mask_query(self, url: str) -> str:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode(
                [(k, MASK if k.lower() in SENSITIVE_PARAMS else v) for k, v in pairs], safe="*"
            )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))

    def headers(self, headers: Mapping[str, str] | httpx.Headers) -> dict[str, str]:
        """A copy of ``headers`` with credential-bearing values masked."""
        return {
            name: MASK if is_sensitive_header(name) else self.text(value)
            for name, value in headers.items()
        }

    def path(self, url: str | httpx.URL) -> str:
        """Only the path of ``url`` (no host, no query), masked: for error messages."""
        return self.text(urlsplit(str(url)).path or "/")


def is_sensitive_header(name: str) -> bool:
    lowered = name.lower()
    if lowered in SENSITIVE_HEADERS:
        return True
    # rate-limit headers mention no credential, even though "x-amzn-..." is close to "auth"
    return "ratelimit" not in lowered and bool(_SENSITIVE_HEADER_WORDS.search(lowered))

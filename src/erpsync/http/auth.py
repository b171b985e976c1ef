"""Auth flows (static header/param keys, OAuth2 refresh with rotation) and the TokenStore protocol.

Mechanics from httpx (encode/httpx: httpx/_auth.py:38): an Auth flow yields the request, looks
at the response, and may yield once more. OAuth2 refresh does I/O and takes locks, so it overrides
``sync_auth_flow`` as the Auth docstring advises. Rotated refresh tokens are persisted through the
TokenStore *before* the new access token is used, under a single-flight lock, because platforms
such as Mercado Livre invalidate a refresh token the moment it is used
(ref: https://developers.mercadolivre.com.br/pt_br/autenticacao-e-autorizacao).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import AsyncGenerator, Callable, Generator, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, TypeVar

import httpx

from erpsync.domain import utcnow
from erpsync.errors import AuthError, ConnectorError, RateLimitedError, RetriableError
from erpsync.http.ratelimit import parse_retry_after
from erpsync.http.redact import Redactor

log = logging.getLogger("erpsync.http.auth")

_E = TypeVar("_E", bound=ConnectorError)

#: refresh this long before the stored expiry, so a token does not expire in flight
DEFAULT_LEEWAY = timedelta(seconds=60)


def fingerprint(secret: str | None) -> str | None:
    """A short, non-reversible id of a secret (sha256 prefix): the ``seed`` of stored tokens."""
    if not secret:
        return None
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Tokens:
    """An OAuth2 token set. ``seed``: fingerprint of the config refresh token it descends from
    (filled by ``TokenStore.load``). ``account``: the account the tokens belong to, as the
    token response named it (``OAuth2RefreshAuth(account_field=)``), stored with them."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    seed: str | None = None
    account: str | None = None

    def expired(self, now: datetime, leeway: timedelta = DEFAULT_LEEWAY) -> bool:
        """True when there is no access token or it expires within ``leeway`` of ``now``."""
        if not self.access_token:
            return True
        return self.expires_at is not None and self.expires_at - leeway <= now


class TokenStore(Protocol):
    """Where rotated tokens live between runs (``erpsync.store.tokens.SqlTokenStore``)."""

    def load(self, key: str) -> Tokens | None:
        """The stored tokens for ``key``, with the ``seed`` they were saved under."""
        ...

    def save(self, key: str, tokens: Tokens, *, seed: str | None) -> None:
        """Replace the tokens for ``key`` atomically."""
        ...

    def refresh_lock(self, key: str) -> AbstractContextManager[None]:
        """Held while refreshing ``key``: single-flight across threads and processes."""
        ...


class MemoryTokenStore:
    """A TokenStore in memory (tests, dry runs): a lock per key, across threads only."""

    def __init__(self) -> None:
        self._tokens: dict[str, Tokens] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        #: how many times each key was saved (tests assert on rotations)
        self.saves: dict[str, int] = {}

    def load(self, key: str) -> Tokens | None:
        with self._guard:
            return self._tokens.get(key)

    def save(self, key: str, tokens: Tokens, *, seed: str | None) -> None:
        with self._guard:
            self._tokens[key] = replace(tokens, seed=seed)
            self.saves[key] = self.saves.get(key, 0) + 1

    @contextmanager
    def refresh_lock(self, key: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield


class HeaderAuth(httpx.Auth):
    """A static credential in one header (API keys, ``Authorization: Bearer <static token>``)."""

    def __init__(self, header: str, value: str) -> None:
        self.header = header
        self.value = value

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = self.value
        yield request


def bearer(token: str) -> HeaderAuth:
    """``Authorization: Bearer <token>`` with a static token."""
    return HeaderAuth("Authorization", f"Bearer {token}")


class QueryAuth(httpx.Auth):
    """A static credential in a query parameter (Tiny's ``token=``)."""

    def __init__(self, param: str, value: str) -> None:
        self.param = param
        self.value = value

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.url = request.url.copy_merge_params({self.param: self.value})
        yield request


def expired_on_401(response: httpx.Response) -> bool:
    """The default expiry signal: 401 Unauthorized."""
    return response.status_code == 401


class OAuth2RefreshAuth(httpx.Auth):
    """OAuth2 bearer auth that refreshes, rotates and persists tokens.

    Args:
        token_url: the full token endpoint URL (``HttpSession.auth_url``).
        client_id / client_secret: the app's credentials.
        refresh_token: the refresh token from the config (None: only stored tokens are used).
        access_token: an access token from the config, used until it is rejected.
        token_store: where rotated tokens persist (default: in memory).
        key: the store key, and the connector name in messages.
        seed: fingerprint of the config refresh token (default: computed from it). When the
            stored tokens descend from another seed, the user changed the config: it wins.
        header / value_format: how the access token is sent.
        body_format: "form" (RFC 6749) or "json" token requests.
        client_auth: "body" (client_id/secret in the body) or "basic" (HTTP Basic header).
        is_expired: which responses mean "access token expired" (default: 401).
        extra_params: added to every token request (scope, ...).
        account_field: the token response field (beyond RFC 6749) naming the account the
            tokens belong to (Mercado Livre's ``user_id``): kept as ``Tokens.account`` and
            stored with them, so a run that loads still-valid tokens knows it too. A refresh
            answer without it keeps the account of the tokens it refreshed.
        on_token_response: called with each accepted token response's JSON body, after the
            tokens are stored: other fields the platform adds beyond RFC 6749.
        leeway: refresh this long before the stored expiry.
        clock / client / redactor: bound by HttpSession when not given.
    """

    requires_response_body = True

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str | None = None,
        refresh_token: str | None = None,
        access_token: str | None = None,
        token_store: TokenStore | None = None,
        key: str,
        seed: str | None = None,
        header: str = "Authorization",
        value_format: str = "Bearer {}",
        body_format: Literal["form", "json"] = "form",
        client_auth: Literal["body", "basic"] = "body",
        is_expired: Callable[[httpx.Response], bool] = expired_on_401,
        extra_params: Mapping[str, str] | None = None,
        account_field: str | None = None,
        on_token_response: Callable[[Mapping[str, Any]], None] | None = None,
        leeway: timedelta = DEFAULT_LEEWAY,
        clock: Callable[[], datetime] | None = None,
        client: httpx.Client | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.access_token = access_token
        self.store: TokenStore = token_store if token_store is not None else MemoryTokenStore()
        self.key = key
        self.seed = seed if seed is not None else fingerprint(refresh_token)
        self.header = header
        self.value_format = value_format
        self.body_format = body_format
        self.client_auth = client_auth
        self.is_expired = is_expired
        self.extra_params = dict(extra_params or {})
        self.account_field = account_field
        self.on_token_response = on_token_response
        self.leeway = leeway
        self.clock = clock
        self.client = client
        self.redactor = redactor or Redactor()
        self.redactor.add(client_secret, refresh_token, access_token)
        self._tokens: Tokens | None = None
        self._lock = threading.Lock()

    def bind(
        self,
        *,
        client: httpx.Client,
        clock: Callable[[], datetime] | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        """Give the flow the session's token client, clock and redactor (unless set already)."""
        if self.client is None:
            self.client = client
        if self.clock is None:
            self.clock = clock
        if redactor is not None:
            redactor.add(self.client_secret, self.refresh_token, self.access_token)
            self.redactor = redactor

    # -- the flow ------------------------------------------------------------------------------

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        tokens, refreshed = self._tokens_to_send()
        self._apply(request, tokens)
        response = yield request
        response.read()
        # once per request: a token refreshed for this very request is not refreshed again,
        # and a second rejection goes back to the caller (an AuthError), never a loop
        if refreshed or not self.is_expired(response):
            return
        log.info("%s: access token rejected (HTTP %d); refreshing", self.key, response.status_code)
        self._apply(request, self._refresh(stale=tokens, force=True))
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:  # pragma: no cover - sync engine
        raise NotImplementedError("OAuth2RefreshAuth supports sync clients only")
        yield request

    def current_tokens(self) -> Tokens:
        """Valid tokens to send now, refreshing first when the stored expiry has passed."""
        return self._tokens_to_send()[0]

    def _tokens_to_send(self) -> tuple[Tokens, bool]:
        with self._lock:
            if self._tokens is None:
                self._tokens = self._load()
            tokens = self._tokens
        if tokens.expired(self._now(), self.leeway):
            return self._refresh(stale=tokens, force=False), True
        return tokens, False

    def _apply(self, request: httpx.Request, tokens: Tokens) -> None:
        request.headers[self.header] = self.value_format.format(tokens.access_token)

    def _now(self) -> datetime:
        return (self.clock or utcnow)()

    def _load(self) -> Tokens:
        """Stored tokens, unless the config holds a refresh token they do not descend from."""
        stored = self.store.load(self.key)
        if stored is not None and (
            stored.seed is None or self.seed is None or stored.seed == self.seed
        ):
            return stored
        return Tokens(access_token=self.access_token or "", refresh_token=self.refresh_token)

    def _refresh(self, *, stale: Tokens, force: bool) -> Tokens:
        """Single-flight refresh: adopt what another run stored, else call the token endpoint."""
        with self._lock, self.store.refresh_lock(self.key):
            latest = self._load()
            rotated = (latest.access_token, latest.refresh_token) != (
                stale.access_token,
                stale.refresh_token,
            )
            if not latest.expired(self._now(), self.leeway) and (rotated or not force):
                if rotated:
                    log.info("%s: adopting tokens refreshed by another run", self.key)
                self._tokens = latest
                return latest
            if not latest.refresh_token:
                raise AuthError(
                    "no refresh token: re-authorise: erpsync connectors authorize " + self.key,
                    connector=self.key,
                )
            return self._token_request(
                {"grant_type": "refresh_token", "refresh_token": latest.refresh_token},
                previous=latest,
            )

    # -- the token endpoint --------------------------------------------------------------------

    def exchange_code(
        self,
        code: str,
        redirect_uri: str | None,
        code_verifier: str | None = None,
        *,
        body_format: Literal["form", "json"] | None = None,
    ) -> Tokens:
        """Trade an authorization code for tokens (``authorization_code`` grant) and store them.

        ``body_format`` overrides the flow's for this call (ID Magalu takes the code exchange
        as JSON but the refresh as a form). ``redirect_uri`` None: not sent (Bling redirects to
        the link registered with the app and its token call names none).
        """
        body = {"grant_type": "authorization_code", "code": code}
        if redirect_uri is not None:
            body["redirect_uri"] = redirect_uri
        if code_verifier:
            body["code_verifier"] = code_verifier
        self.redactor.add(code, code_verifier)
        with self._lock, self.store.refresh_lock(self.key):
            return self._token_request(body, previous=None, body_format=body_format)

    def _token_request(
        self,
        grant: dict[str, str],
        *,
        previous: Tokens | None,
        body_format: Literal["form", "json"] | None = None,
    ) -> Tokens:
        """POST the token endpoint; persist the answer before anyone uses it."""
        response = self._post_token(grant, body_format or self.body_format)
        tokens = self._parse_tokens(response, grant["grant_type"], previous)
        self.redactor.add(tokens.access_token, tokens.refresh_token)
        # persist first: the old refresh token is dead once the server has rotated it
        self.store.save(self.key, tokens, seed=self.seed)
        self._tokens = tokens
        log.info("%s: obtained a new access token (%s grant)", self.key, grant["grant_type"])
        if self.on_token_response is not None:
            self.on_token_response(response.json())  # a dict: _parse_tokens checked it
        return tokens

    def _post_token(self, grant: dict[str, str], body_format: str) -> httpx.Response:
        body = {**grant, **self.extra_params}
        kwargs: dict[str, Any] = {"json": body} if body_format == "json" else {"data": body}
        if self.client_auth == "basic":
            kwargs["auth"] = httpx.BasicAuth(self.client_id, self.client_secret or "")
        else:
            body["client_id"] = self.client_id
            if self.client_secret is not None:
                body["client_secret"] = self.client_secret
        client = self.client or _default_client()
        try:
            return client.post(self.token_url, headers={"Accept": "application/json"}, **kwargs)
        except httpx.TimeoutException as exc:
            raise self._error(
                RetriableError, f"token endpoint timed out ({type(exc).__name__})"
            ) from exc
        except httpx.TransportError as exc:
            raise self._error(RetriableError, f"token endpoint unreachable: {exc}") from exc
        finally:
            if self.client is None:
                client.close()

    def _parse_tokens(
        self, response: httpx.Response, grant_type: str, previous: Tokens | None
    ) -> Tokens:
        status = response.status_code
        try:
            data = response.json()
        except ValueError:
            data = None
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise self._error(
                RateLimitedError, "token endpoint rate limited (HTTP 429)", retry_after=retry_after
            )
        if status >= 500:
            raise self._error(RetriableError, f"token endpoint failed (HTTP {status})")
        if status >= 400 or not isinstance(data, dict):
            raise self._rejected(status, data, grant_type)
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise self._error(
                RetriableError, f"token endpoint answered HTTP {status} without an access_token"
            )
        seconds = _seconds(data.get("expires_in"))
        expires_at = self._now() + timedelta(seconds=seconds) if seconds is not None else None
        refresh = data.get("refresh_token")
        if not isinstance(refresh, str) or not refresh:
            # Amazon LWA does not rotate: the refresh token stays valid
            refresh = previous.refresh_token if previous else None
        account = _account(data.get(self.account_field)) if self.account_field else None
        if account is None and previous is not None:
            account = previous.account  # a refresh keeps the grant's account
        return Tokens(
            access_token=access, refresh_token=refresh, expires_at=expires_at, account=account
        )

    def _rejected(self, status: int, data: Any, grant_type: str) -> AuthError:
        fields = data if isinstance(data, dict) else {}
        if isinstance(fields.get("error"), dict):
            # an error object instead of RFC 6749's flat fields (Bling: {"error": {"type",
            # "message", "description"}})
            nested = fields["error"]
            fields = {
                "error": nested.get("type"),
                "error_description": nested.get("description") or nested.get("message"),
            }
        code = fields.get("error")
        described = fields.get("error_description") or fields.get("message")
        detail = f"{code}: {described}" if code and described else str(code or described or "")
        detail = self.redactor.text(detail)[:200] or f"HTTP {status}"
        hint = f"re-authorise: erpsync connectors authorize {self.key}"
        if code == "invalid_grant":
            what = "refresh token" if grant_type == "refresh_token" else "authorization code"
            message = f"the {what} was rejected ({detail}); {hint}"
        elif code in {"invalid_client", "unauthorized_client"}:
            message = f"client credentials rejected ({detail}); check client_id and client_secret"
        else:
            message = (
                f"token endpoint refused the {grant_type} grant (HTTP {status}: {detail}); {hint}"
            )
        return self._error(AuthError, message, status_code=status)

    def _error(self, kind: type[_E], message: str, **extra: Any) -> _E:
        endpoint = f"POST {self.redactor.path(self.token_url)}"
        return kind(self.redactor.text(message), connector=self.key, endpoint=endpoint, **extra)


def _default_client() -> httpx.Client:
    return httpx.Client(timeout=30.0)


def _account(value: Any) -> str | None:
    """An account id from a token response: text, or an integer (ML's ``user_id``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None

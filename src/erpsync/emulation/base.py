"""The Emulator base class every platform emulator derives from, and small request helpers."""

from __future__ import annotations

import hashlib
import random
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from erpsync.domain import utcnow
from erpsync.emulation.faults import FaultPlan, _FaultInjector
from erpsync.emulation.latency import Latency, LatencyMiddleware
from erpsync.emulation.recording import RecordedRequest, _Recorder
from erpsync.emulation.tokens import sign_token, verify_token

# -- the base class -----------------------------------------------------------------------------


class Emulator(ABC):
    """Base of every platform emulator.

    Subclasses put their state in ``setup()`` (called before the sandbox account is seeded, so
    do not assign state after ``super().__init__``), return their routes from ``routes()``, and
    implement the contract-suite API: ``credentials``, ``options``, ``seed_orders``,
    ``update_order``, ``cancel_order``, ``expire_access_tokens``, ``listing_refs``, ``stock_of``
    and, for platforms that apply pushes asynchronously, ``settle``.

    Args:
        seed: makes generated data (and the token signing key) deterministic.
        clock: the emulator's "now" (aware UTC); tests inject a fake one.
        sandbox_orders: orders seeded over the last days so ``sandbox: true`` has data.
    """

    #: how far back the sandbox account's orders go
    sandbox_span: timedelta = timedelta(days=7)

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Callable[[], datetime] = utcnow,
        sandbox_orders: int = 10,
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.random = random.Random(seed)
        self.faults = FaultPlan()
        #: every answer's round trip (zero: at once); ``emulator.latency.set(0.15, 0.05)``
        self.latency = Latency(seed=seed)
        self.requests: list[RecordedRequest] = []
        #: benchmarks turn this off so memory stays flat over hundreds of thousands of requests
        self.record_requests = True
        self._requests_lock = threading.Lock()
        self._used_tokens: set[str] = set()
        self._token_generation: dict[str, int] = {}
        self.setup()
        self.app: Starlette = self.build_app()
        if sandbox_orders > 0:
            self.seed_sandbox(sandbox_orders)

    # hooks --------------------------------------------------------------------------------------

    def setup(self) -> None:  # noqa: B027 - an optional hook, empty by design
        """Initialise the emulator's state (products, listings, tokens ...)."""

    @abstractmethod
    def routes(self) -> Sequence[BaseRoute]:
        """The platform's endpoints, at their real paths (token endpoint included)."""

    def build_app(self) -> Starlette:
        return Starlette(
            routes=list(self.routes()),
            middleware=[
                Middleware(_Recorder, emulator=self),
                Middleware(LatencyMiddleware, latency=self.latency),
                Middleware(_FaultInjector, emulator=self),
            ],
        )

    def seed_sandbox(self, orders: int) -> None:
        """Seed the default sandbox account: ``orders`` orders over the last ``sandbox_span``."""
        now = self.clock()
        self.seed_orders(orders, start=now - self.sandbox_span, end=now)

    def rate_limit_response(self, retry_after: float | None) -> Response:
        """The platform's 429 answer (override with the platform's body shape)."""
        headers = {"Retry-After": _header_seconds(retry_after)} if retry_after is not None else {}
        return JSONResponse({"message": "Too Many Requests"}, status_code=429, headers=headers)

    def fault_response(self, status: int) -> Response:
        """The answer to an injected "status" fault."""
        return JSONResponse({"message": "injected failure", "status": status}, status_code=status)

    def malformed_response(self) -> Response:
        """A 200 whose JSON body is cut short."""
        return Response(b'{"results": [{"id": ', media_type="application/json")

    # the contract-suite API (every platform emulator implements these) ---------------------

    def credentials(self) -> dict[str, Any]:
        """A ``credentials`` config block that works against this emulator."""
        raise NotImplementedError

    def options(self) -> dict[str, Any]:
        """An ``options`` config block that works against this emulator."""
        return {}

    def seed_orders(self, count: int, *, start: datetime, end: datetime) -> list[str]:
        """Create ``count`` deterministic orders updated within [start, end); their ids."""
        raise NotImplementedError

    def update_order(self, external_id: str, **changes: Any) -> None:
        """Change an order (its update time becomes now)."""
        raise NotImplementedError

    def cancel_order(self, external_id: str) -> None:
        """Cancel an order (its update time becomes now)."""
        raise NotImplementedError

    def listing_refs(self) -> list[tuple[str, str | None, str]]:
        """(item_id, variation_id or None, seller SKU) of every listing."""
        raise NotImplementedError

    def stock_of(self, item_id: str, variation_id: str | None = None) -> int | None:
        """The quantity a listing has now, or None when unknown."""
        raise NotImplementedError

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far invalid (default: for ``issue_token`` tokens)."""
        self.revoke_tokens("access")

    def settle(self) -> None:  # noqa: B027 - an optional hook, empty by design
        """Apply now what the platform applies asynchronously (stock pushes it answered 202
        to), so ``stock_of`` shows it. Default: nothing is asynchronous."""

    def invoice_ready(self, external_id: str) -> bool:
        """Whether the channel would take an NF-e for exactly this order now (its shipment
        waits for one and holds no other order). Emulators of InvoiceSink platforms answer;
        the contract suite skips its invoice checks while none is ready."""
        return False

    def invoice_key(self, external_id: str) -> str | None:
        """The NF-e access key the channel holds for this order, or None."""
        return None

    def tracking_ready(self, external_id: str) -> bool:
        """Whether the channel would take the seller's tracking for this order now (paid, not
        shipped yet, shipped by the seller). Emulators of TrackingSink platforms answer; the
        contract suite skips its tracking checks while none is ready."""
        return False

    def tracking_code(self, external_id: str) -> str | None:
        """The tracking code the channel shows for this order once shipped, or None."""
        return None

    def label_ready(self, external_id: str) -> bool:
        """Whether the channel would print this order's shipping label now. Emulators of
        LabelSource platforms answer; the contract suite skips its label checks while none is
        ready."""
        return False

    def label_blocked(self, external_id: str) -> bool:
        """Whether the channel refuses this order's label for now (its NF-e is not in, the
        shipment is not ready) though it will issue one later."""
        return False

    # the ERP side of the contract-suite API (OrderSink / StockSource / InvoiceSource platforms:
    # erpsync.testing.ErpContract) ----------------------------------------------------------

    #: the path of the request that creates an order (faults aimed at creates use it)
    order_create_path: str = ""

    def erp_skus(self) -> list[str]:
        """SKUs (product codes) of the products the ERP account has, kits included."""
        raise NotImplementedError

    def erp_orders_numbered(self, number: str) -> list[str]:
        """Ids of the ERP's orders that carry channel order number ``number`` (a duplicate
        create shows here as a second id)."""
        raise NotImplementedError

    def erp_order_cancelled(self, remote_id: str) -> bool:
        """Whether the ERP order ``remote_id`` is cancelled."""
        raise NotImplementedError

    def erp_invoice_order(self, remote_id: str) -> str:
        """Issue and authorise an NF-e for ERP order ``remote_id`` now (the order becomes
        invoiced, so the ERP no longer takes its cancellation); its access key."""
        raise NotImplementedError

    def erp_invoice_situation(self, remote_id: str, situation: str) -> None:
        """Put the NF-e ``erp_invoice_order`` issued for ERP order ``remote_id`` in
        ``situation``: "pending" (issued, not authorised yet: SEFAZ has not answered),
        "authorised" or "cancelled"; the order itself is left as it is."""
        raise NotImplementedError

    def erp_available(self, sku: str) -> int:
        """What the ERP shows as available for ``sku`` now (its reservations deducted)."""
        raise NotImplementedError

    def erp_add_order(self, number: str, sku: str, quantity: int) -> str:
        """An order entered in the ERP by something other than erpsync (a marketplace hub,
        a sale typed in by hand), carrying marketplace order ``number``; its id."""
        raise NotImplementedError

    def erp_recreate_product(self, sku: str) -> None:
        """The seller deleted product ``sku`` and registered it again: same code, a new id
        (the old id is refused from now on)."""
        raise NotImplementedError

    # helpers for subclasses ------------------------------------------------------------------

    @property
    def token_secret(self) -> str:
        """HMAC key of this emulator's tokens: stable per class and seed, so a fresh sandbox
        emulator (the next CLI run) accepts tokens issued by the previous one."""
        material = f"erpsync-emulator:{type(self).__module__}.{type(self).__qualname__}:{self.seed}"
        return hashlib.sha256(material.encode()).hexdigest()

    def issue_token(
        self, kind: str, payload: dict[str, Any] | None = None, ttl: timedelta | None = None
    ) -> str:
        """A signed token of ``kind`` ("access", "refresh", "code" ...), valid for ``ttl``."""
        body = {**(payload or {}), "gen": self._token_generation.get(kind, 0)}
        expires_at = self.clock() + ttl if ttl is not None else None
        return sign_token(self.token_secret, kind, body, expires_at)

    def read_token(self, kind: str, token: str | None) -> dict[str, Any] | None:
        """The payload of a valid, unexpired, unrevoked token of ``kind``, else None."""
        if not token:
            return None
        payload = verify_token(self.token_secret, kind, token, self.clock())
        if payload is None or payload.get("gen", 0) < self._token_generation.get(kind, 0):
            return None
        return payload

    def use_once(self, token: str) -> bool:
        """True the first time ``token`` is used in this emulator's life (single-use refresh
        tokens and authorization codes), False after."""
        with self._requests_lock:
            if token in self._used_tokens:
                return False
            self._used_tokens.add(token)
            return True

    def revoke_tokens(self, kind: str) -> None:
        """Invalidate every token of ``kind`` issued so far."""
        self._token_generation[kind] = self._token_generation.get(kind, 0) + 1

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """Recorded requests whose path starts with ``path`` (and of ``method``, when given)."""
        return [
            r
            for r in list(self.requests)
            if r.path.startswith(path) and (method is None or r.method == method.upper())
        ]

    def _record(self, request: RecordedRequest) -> None:
        if not self.record_requests:
            return
        with self._requests_lock:
            self.requests.append(request)


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body, one value per field.

    Use this instead of ``request.form()``: Starlette's needs python-multipart, which erpsync
    does not depend on.
    """
    body = (await request.body()).decode()
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _header_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"

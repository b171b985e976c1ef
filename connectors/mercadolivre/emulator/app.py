"""MercadoLivreEmulator: api.mercadolibre.com's seller endpoints, in-process, with ML's quirks.

Real paths and shapes (sources cited in wire.py, seed.py and items.py):
/oauth/token with single-use rotating refresh tokens, bearer auth with 6 h access tokens,
/orders/search that leaves cancelled orders out unless asked and refuses offset + limit past
10,000, billing info, shipments (new format only with `x-format-new: true`), the seller's item
search (offset up to 1000, then scan/scroll_id), the 20-id multiget, and PUT /items/{id}, where
a `variations` array drops the variations it leaves out, as the docs warn.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.mercadolivre.emulator import seed, wire
from erpsync.connectors.mercadolivre.emulator.invoices import InvoicesMixin
from erpsync.connectors.mercadolivre.emulator.items import ItemsMixin
from erpsync.connectors.mercadolivre.emulator.labels import LabelsMixin
from erpsync.connectors.mercadolivre.emulator.notifications import NotificationsMixin
from erpsync.connectors.mercadolivre.emulator.packs import PacksMixin
from erpsync.connectors.mercadolivre.emulator.seed import ORDER_MIX
from erpsync.connectors.mercadolivre.emulator.wire import error, ml_time, unauthorized, utc_time
from erpsync.domain import utcnow
from erpsync.emulation import Emulator, bearer_token, read_form

ACCESS_TTL = timedelta(seconds=21600)  # 6 h (ref: pt_br/autenticacao-e-autorizacao)
REFRESH_TTL = timedelta(days=180)  # about 6 months [C/R]
SORTS = {"date_asc": "Date ascending", "date_desc": "Date descending"}
INVALID_GRANT = (
    "Error validating grant. Your authorization code or refresh token may be expired or it was "
    "already used"
)


class MercadoLivreEmulator(
    ItemsMixin, InvoicesMixin, PacksMixin, NotificationsMixin, LabelsMixin, Emulator
):
    """A Mercado Livre seller account (MLB) that behaves like the real API."""

    #: serials of seeded orders whose shipment the seller ships himself (ME1): none in the
    #: sandbox mix; a test emulator names some (the contract suite's tracking checks)
    me1_serials: frozenset[int] = frozenset()

    # the app and refresh token config.example.yaml ships for `sandbox: true`
    client_id = "sandbox-app"
    client_secret = "sandbox-secret"  # noqa: S105 - the sandbox's published fixture
    redirect_uri = "https://erpsync.example/mercadolivre/callback"

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Callable[[], datetime] = utcnow,
        sandbox_orders: int = len(ORDER_MIX),
        search_cap: int = 10_000,
        items_offset_cap: int = 1_000,
    ) -> None:
        #: offset + limit the order search serves [U: integrators report 10,000]
        self.search_cap = search_cap
        self.items_offset_cap = items_offset_cap
        super().__init__(seed=seed, clock=clock, sandbox_orders=sandbox_orders)

    def setup(self) -> None:
        self.lock = threading.RLock()
        self.orders: dict[int, dict[str, Any]] = {}
        self.shipments: dict[int, dict[str, Any]] = {}
        self.billing: dict[str, dict[str, Any]] = {}
        #: shipment id -> its orders (a pack's orders share one): masking needs their status
        self.shipment_orders: dict[int, list[int]] = {}
        self.buyers = [seed.make_buyer(self.random, i) for i in range(24)]
        self.serial = 0
        #: parsed (date_last_updated, date_created) per order, and search results per query: a
        #: benchmark pages 100k orders, and re-filtering them for every page would dominate
        self._times: dict[int, tuple[datetime, datetime]] = {}
        self._searches: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        self.setup_items()
        self.setup_invoices()
        self.setup_packs()

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/oauth/token", self.token, methods=["POST"]),
            Route("/users/me", self.me, methods=["GET"]),
            Route("/users/{user_id:int}", self.user, methods=["GET"]),
            Route("/users/{user_id:int}/items/search", self.items_search, methods=["GET"]),
            Route("/orders/search", self.orders_search, methods=["GET"]),
            Route("/orders/billing-info/{site}/{billing_id}", self.billing_info, methods=["GET"]),
            Route("/orders/{order_id:int}", self.order, methods=["GET"]),
            Route("/shipments/{shipment_id:int}", self.shipment, methods=["GET"]),
            Route("/items", self.multiget, methods=["GET"]),
            Route("/items/bulk", self.multiget, methods=["GET"]),
            Route("/items/{item_id}", self.item, methods=["GET", "PUT"]),
            *self.invoice_routes(),
            *self.pack_routes(),
            *self.notification_routes(),
            *self.label_routes(),
        ]

    # -- the contract-suite API -----------------------------------------------------------------

    def invoice_key(self, external_id: str) -> str | None:
        """The key ML holds for the order: on its shipment (ME2), else attached to its pack."""
        on_shipment = InvoicesMixin.invoice_key(self, external_id)
        return on_shipment or self.pack_xml_key(self.pack_of(external_id))

    #: the config's first refresh token: fixed, so a sandbox config can hard-code it. Single-use
    #: within one emulator life; its signed successors survive into the next CLI run.
    bootstrap_refresh_token = "TG-sandbox-refresh"  # noqa: S105

    def credentials(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.bootstrap_refresh_token,
        }

    def options(self) -> dict[str, Any]:
        return {"seller_id": wire.SELLER_ID, "redirect_uri": self.redirect_uri}

    def seed_orders(self, count: int, *, start: datetime, end: datetime) -> list[str]:
        step = (end - start) / max(count, 1)
        ids: list[str] = []
        pack: tuple[int, int] | None = None
        with self.lock:
            for index in range(count):
                serial = self.serial
                self.serial += 1
                order_id = 2000010000000000 + serial + 1
                role = seed.pack_role(serial)
                if role == "first":
                    pack = (2000005000000000 + serial, 46000000000 + serial)
                buyer = self.buyers[(serial - 1 if role == "second" else serial) % len(self.buyers)]
                spec = seed.mix_spec(
                    serial,
                    order_id=order_id,
                    buyer=buyer,
                    updated=start + step * index,
                    pack=pack if role else None,
                )
                self._store(spec)
                if serial in self.me1_serials:
                    self.ship_by_seller(str(order_id))
                ids.append(str(order_id))
        return ids

    def update_order(self, external_id: str, *, record: bool = True, **changes: Any) -> None:
        """Set order fields (e.g. status="paid"); `shipment_status` / `substatus` go to its
        shipment. `date_last_updated` becomes now; `last_updated` too unless ``record`` is
        False (which changes move only date_last_updated is not documented [U]; the documented
        result shows last_updated months older, so the emulator has both cases)."""
        now = self.clock()
        with self.lock:
            order = self.orders[int(external_id)]
            shipment = self.shipments.get((order.get("shipping") or {}).get("id") or 0)
            if shipment is not None:
                if "shipment_status" in changes:
                    shipment["status"] = changes.pop("shipment_status")
                if "substatus" in changes:
                    shipment["substatus"] = changes.pop("substatus")
                shipment["last_updated"] = ml_time(now)
            order.update(changes)
            order["date_last_updated"] = utc_time(now)
            if record:
                order["last_updated"] = ml_time(now)
            self._index(order)

    def pay_order(self, external_id: str) -> None:
        """The buyer pays: payment approved, order paid, destination unmasked. Payment lives
        on its own resource, so only the order's date_last_updated moves."""
        now = ml_time(self.clock())
        with self.lock:
            order = self.orders[int(external_id)]
            for payment in order["payments"]:
                payment.update(
                    status="approved",
                    status_detail="accredited",
                    date_approved=now,
                    date_last_modified=now,
                )
            paid = round(sum(p["total_paid_amount"] for p in order["payments"]), 2)
            tags = ["paid", "not_delivered"] + [t for t in order["tags"] if t == "pack_order"]
        self.update_order(
            external_id,
            record=False,
            status="paid",
            paid_amount=paid,
            date_closed=now,
            tags=tags,
            shipment_status="ready_to_ship",
            substatus="invoice_pending",
        )

    def cancel_order(self, external_id: str) -> None:
        now = ml_time(self.clock())
        with self.lock:
            order = self.orders[int(external_id)]
            for payment in order["payments"]:
                payment.update(status="refunded", status_detail="refunded", date_last_modified=now)
            order["tags"] = [tag for tag in order["tags"] if tag == "pack_order"]
            order["cancel_detail"] = {
                "group": "seller",
                "code": "seller_cancel",
                "description": "Cancelada pelo vendedor",
                "requested_by": "seller",
                "date": now,
                "application_id": None,
            }
        self.update_order(external_id, status="cancelled", shipment_status="cancelled")

    def _store(self, spec: wire.OrderSpec) -> None:
        self.orders[spec.order_id] = order = wire.order_json(spec)
        self._index(order)
        if spec.shipment_id and spec.shipment_id not in self.shipments:
            self.shipments[spec.shipment_id] = wire.shipment_json(spec)
        if spec.shipment_id:
            self.shipment_orders.setdefault(spec.shipment_id, []).append(spec.order_id)
        if spec.billing_info_id:
            self.billing[spec.billing_info_id] = wire.billing_info_json(spec)

    # -- auth -----------------------------------------------------------------------------------

    def issue_code(self) -> str:
        """An authorization code, as the consent page would put on the redirect (tests)."""
        return "TG-" + self.issue_token("code", {"user_id": wire.SELLER_ID}, timedelta(minutes=10))

    def caller(self, request: Request) -> int | None:
        """The user id of a valid bearer token (a `?access_token=` query is not accepted)."""
        token = bearer_token(request) or ""
        payload = self.read_token("access", token.removeprefix("APP_USR-"))
        return int(payload["user_id"]) if payload else None

    async def token(self, request: Request) -> Response:
        # ref: https://developers.mercadolivre.com.br/pt_br/autenticacao-e-autorizacao
        form = await read_form(request)
        if "grant_type" not in form:
            # parameters in the query string instead of the body (mercadolibre/php-sdk#39)
            return error(400, "the grant_type parameter is required", "invalid_request")
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return error(400, "invalid client_id or client_secret", "invalid_client")
        grant = form["grant_type"]
        if grant == "refresh_token":
            valid = self._refresh_valid(form.get("refresh_token", ""))
        elif grant == "authorization_code":
            code = form.get("code", "")
            valid = (
                self.read_token("code", code.removeprefix("TG-")) is not None
                and form.get("redirect_uri") == self.redirect_uri
                and self.use_once(code)
            )
        else:
            return error(400, f"unsupported grant_type {grant}", "unsupported_grant_type")
        if not valid:
            return error(400, INVALID_GRANT, "invalid_grant")
        return JSONResponse(self._new_tokens())

    def _refresh_valid(self, token: str) -> bool:
        known = token == self.bootstrap_refresh_token or (
            self.read_token("refresh", token.removeprefix("TG-")) is not None
        )
        return known and self.use_once(token)  # single use: every refresh rotates it

    def _new_tokens(self) -> dict[str, Any]:
        user = {"user_id": wire.SELLER_ID}
        return {
            "access_token": "APP_USR-" + self.issue_token("access", user, ACCESS_TTL),
            "token_type": "bearer",
            "expires_in": int(ACCESS_TTL.total_seconds()),
            "scope": "offline_access read write",
            "user_id": wire.SELLER_ID,
            "refresh_token": "TG-" + self.issue_token("refresh", user, REFRESH_TTL),
        }

    # -- users ----------------------------------------------------------------------------------

    async def me(self, request: Request) -> Response:
        if self.caller(request) is None:
            return unauthorized()
        return JSONResponse(self._user(private=True))

    async def user(self, request: Request) -> Response:
        if self.caller(request) is None:
            return unauthorized()
        if request.path_params["user_id"] != wire.SELLER_ID:
            return error(404, "User not found", "not_found")
        return JSONResponse(self._user(private=False))

    @staticmethod
    def _user(*, private: bool) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": wire.SELLER_ID,
            "nickname": seed.SELLER_NICKNAME,
            "registration_date": "2019-03-14T10:21:44.000-03:00",
            "country_id": "BR",
            "site_id": "MLB",
            "user_type": "normal",
            "tags": ["normal", "user_info_verified"],
            "seller_reputation": {"level_id": "5_green", "power_seller_status": "gold"},
            "status": {"site_status": "active"},
        }
        if private:
            user.update(first_name="Loja", last_name="Teste", email="loja.teste@example.com")
        return user

    # -- orders ---------------------------------------------------------------------------------

    async def orders_search(self, request: Request) -> Response:
        # ref: https://developers.mercadolivre.com.br/pt_br/gerenciamento-de-vendas
        caller = self.caller(request)
        if caller is None:
            return unauthorized()
        query = request.query_params
        if query.get("seller") != str(caller):
            return error(403, "Caller is not allowed to search orders of that seller", "forbidden")
        try:
            offset = int(query.get("offset", 0))
            limit = int(query.get("limit", 50))
            since = _time(query.get("order.date_last_updated.from"))
            until = _time(query.get("order.date_last_updated.to"))
        except ValueError as exc:
            return error(400, str(exc), "bad_request")
        if limit < 1 or limit > 50:
            return error(400, "Invalid limit: the maximum is 50", "bad_request")
        if offset < 0 or offset + limit > self.search_cap:
            return error(
                400,
                f"Invalid offset: offset + limit must be at most {self.search_cap}",
                "bad_request",
            )
        sort = query.get("sort", "date_asc")
        if sort not in SORTS:
            return error(400, f"Invalid sort {sort}", "bad_request")
        matches = self._matching(query.get("order.status"), since, until, sort)
        return JSONResponse(
            {
                "query": None,
                "display": "complete",
                "paging": {"total": len(matches), "offset": offset, "limit": limit},
                "results": copy.deepcopy(matches[offset : offset + limit]),
                "sort": {"id": sort, "name": SORTS[sort]},
                "available_sorts": [{"id": k, "name": v} for k, v in SORTS.items() if k != sort],
                "filters": [],
                "available_filters": [],
            }
        )

    def _index(self, order: dict[str, Any]) -> None:
        # the search filters on date_last_updated, not on last_updated
        updated, created = _time(order["date_last_updated"]), _time(order["date_created"])
        assert updated is not None and created is not None
        self._times[order["id"]] = (updated, created)
        self._searches.clear()

    def _matching(
        self, status: str | None, since: datetime | None, until: datetime | None, sort: str
    ) -> list[dict[str, Any]]:
        key = (status, since, until, sort)
        with self.lock:
            if key not in self._searches:
                if len(self._searches) > 64:
                    self._searches.clear()
                self._searches[key] = self._search(status, since, until, sort)
            return self._searches[key]

    def _search(
        self, status: str | None, since: datetime | None, until: datetime | None, sort: str
    ) -> list[dict[str, Any]]:
        times = self._times
        found = [
            order
            for order in self.orders.values()
            # the seller search leaves cancelled orders out unless asked for them
            if (order["status"] == status if status else order["status"] != "cancelled")
            and (since is None or times[order["id"]][0] >= since)
            and (until is None or times[order["id"]][0] <= until)
        ]
        found.sort(key=lambda o: (times[o["id"]][1], o["id"]), reverse=sort == "date_desc")
        return found

    async def order(self, request: Request) -> Response:
        if self.caller(request) is None:
            return unauthorized()
        order = self.orders.get(request.path_params["order_id"])
        if order is None:
            return error(404, "Order not found", "not_found")
        return JSONResponse(copy.deepcopy(order))

    async def billing_info(self, request: Request) -> Response:
        # ref: https://developers.mercadolivre.com.br/pt-br/faturamento
        if self.caller(request) is None:
            return unauthorized()
        found = self.billing.get(request.path_params["billing_id"])
        if found is None or request.path_params["site"] != found["site_id"]:
            return error(404, "Billing info not found", "not_found")
        return JSONResponse(copy.deepcopy(found))

    async def shipment(self, request: Request) -> Response:
        if self.caller(request) is None:
            return unauthorized()
        shipment_id = request.path_params["shipment_id"]
        found = self.shipments.get(shipment_id)
        if found is None:
            return error(404, "Shipment not found", "not_found")
        orders = [self.orders[i] for i in self.shipment_orders.get(shipment_id, ())]
        if orders and all(order["status"] in wire.UNPAID for order in orders):
            found = wire.masked(found)
        if request.headers.get("x-format-new") != "true":
            return JSONResponse(_old_format(found))
        return JSONResponse(copy.deepcopy(found))

    # -- errors ---------------------------------------------------------------------------------

    def rate_limit_response(self, retry_after: float | None) -> Response:
        # ML usually sends no Retry-After [U]; the body is `local_rate_limited` [R]
        response = error(429, "local_rate_limited", "local_rate_limited")
        if retry_after is not None:
            response.headers["Retry-After"] = f"{retry_after:g}"
        return response

    def fault_response(self, status: int) -> Response:
        if status >= 500:
            return error(status, "Internal server error", "internal_server_error")
        return error(status, "injected failure", "bad_request")


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip().replace(" ", "+")  # an unencoded "+" offset arrives as a space
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"Invalid date format: {value}") from None
    if moment.tzinfo is None:
        raise ValueError(f"Invalid date format (no offset): {value}")
    return moment


def _old_format(shipment: dict[str, Any]) -> dict[str, Any]:
    """The shipment without `x-format-new`: flat logistic fields and `receiver_address`."""
    old = {k: v for k, v in shipment.items() if k not in ("logistic", "destination", "lead_time")}
    logistic = shipment.get("logistic") or {}
    old.update(mode=logistic.get("mode"), logistic_type=logistic.get("type"))
    address = (shipment.get("destination") or {}).get("shipping_address") or {}
    old["receiver_address"] = {**address, "state": {"id": address.get("state", {}).get("id")}}
    return copy.deepcopy(old)

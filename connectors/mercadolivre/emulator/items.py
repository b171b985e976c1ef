"""The emulator's items side: the seller's item search, multiget and PUT /items/{id} (stock)."""

from __future__ import annotations

import base64
import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from erpsync.connectors.mercadolivre.emulator import seed
from erpsync.connectors.mercadolivre.emulator.state import MlState
from erpsync.connectors.mercadolivre.emulator.wire import error, unauthorized, validation_error

MULTIGET_MAX = 20  # ref: pt_br/itens-e-buscas "Multiget"
SCAN_LIMIT_MAX = 100  # ref: ML news 2017-12-21 "Scan + Hash": limit up to 100


class ItemsMixin(MlState):
    """Items state and endpoints; mixed into MercadoLivreEmulator."""

    items_offset_cap: int
    items: dict[str, dict[str, Any]]

    def setup_items(self) -> None:
        self.items = {item["id"]: item for item in seed.sandbox_items()}
        self._scrolls: dict[str, list[str]] = {}

    # -- the contract-suite API -----------------------------------------------------------------

    def listing_refs(self) -> list[tuple[str, str | None, str]]:
        refs: list[tuple[str, str | None, str]] = []
        with self.lock:
            for item in self.items.values():
                for variation in item.get("variations") or [None]:
                    owner = variation or item
                    sku = _sku(owner)
                    refs.append(
                        (item["id"], str(variation["id"]) if variation else None, sku or "")
                    )
        return refs

    def stock_of(self, item_id: str, variation_id: str | None = None) -> int | None:
        with self.lock:
            item = self.items.get(item_id)
            if item is None:
                return None
            if variation_id is None:
                return int(item["available_quantity"])
            for variation in item.get("variations") or []:
                if str(variation["id"]) == str(variation_id):
                    return int(variation["available_quantity"])
        return None  # unknown, or deleted by a PUT that left it out

    def add_items(self, count: int, *, start: int = 5000) -> list[str]:
        """Add ``count`` plain items (SKU "BULK-n") to test catalogues past the offset cap."""
        ids = []
        with self.lock:
            for n in range(start, start + count):
                item_id = f"MLB{3100000000 + n}"
                self.items[item_id] = seed.item_json(
                    item_id, f"Produto {n}", 10.0, quantity=n % 7, sku=f"BULK-{n}"
                )
                ids.append(item_id)
        return ids

    # -- endpoints ------------------------------------------------------------------------------

    async def items_search(self, request: Request) -> Response:
        # ref: https://developers.mercadolivre.com.br/pt_br/itens-e-buscas
        caller = self.caller(request)
        if caller is None:
            return unauthorized()
        if request.path_params["user_id"] != caller:
            return error(403, "Caller is not the owner of these items", "forbidden")
        query = request.query_params
        with self.lock:
            ids = [
                item_id
                for item_id, item in self.items.items()
                if not query.get("status") or item["status"] == query["status"]
                if not query.get("seller_sku") or query["seller_sku"] in _skus(item)
            ]
        try:
            limit = int(query.get("limit", 50))
            offset = int(query.get("offset", 0))
        except ValueError:
            return error(400, "Invalid offset or limit", "bad_request")
        if query.get("search_type") == "scan":
            return self._scan(ids, query.get("scroll_id"), min(limit, SCAN_LIMIT_MAX), caller)
        if offset + limit > self.items_offset_cap:
            return error(
                400,
                f"Invalid offset: offset + limit must be at most {self.items_offset_cap}; "
                "use search_type=scan",
                "bad_request",
            )
        return JSONResponse(
            {
                "seller_id": str(caller),
                "query": None,
                "paging": {"limit": limit, "offset": offset, "total": len(ids)},
                "results": ids[offset : offset + limit],
                "orders": [{"id": "stop_time_asc", "name": "Order by stop time ascending"}],
                "available_orders": [],
            }
        )

    def _scan(self, ids: list[str], scroll_id: str | None, limit: int, caller: int) -> Response:
        with self.lock:
            if scroll_id:
                remaining = self._scrolls.get(scroll_id)
                if remaining is None:
                    return error(400, "Invalid scroll_id", "bad_request")
            else:  # the same scroll_id serves every page: "the same GET" until the end
                remaining = list(ids)
                scroll_id = base64.b64encode(f"scan:{len(self._scrolls)}".encode()).decode()
            page, self._scrolls[scroll_id] = remaining[:limit], remaining[limit:]
        return JSONResponse(
            {
                "seller_id": str(caller),
                "query": None,
                "paging": {"limit": limit, "total": len(ids)},
                "results": page,
                "scroll_id": scroll_id,
            }
        )

    async def multiget(self, request: Request) -> Response:
        if self.caller(request) is None:
            return unauthorized()
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        if not ids:
            return error(400, "The ids param is required", "bad_request")
        if len(ids) > MULTIGET_MAX:
            return error(400, f"Too many ids: the maximum is {MULTIGET_MAX}", "bad_request")
        full = request.query_params.get("include_attributes") == "all"
        answer = []
        for item_id in ids:
            item = self.items.get(item_id)
            if item is None:
                body = {"message": f"Item with id {item_id} not found", "error": "not_found"}
                answer.append({"code": 404, "body": {**body, "status": 404, "cause": []}})
            else:
                answer.append({"code": 200, "body": self._view(item, full)})
        return JSONResponse(answer)

    async def item(self, request: Request) -> Response:
        if self.caller(request) is None:
            return unauthorized()
        item_id = request.path_params["item_id"]
        item = self.items.get(item_id)
        if item is None:
            return error(404, f"Item with id {item_id} not found", "not_found")
        if request.method == "GET":
            full = request.query_params.get("include_attributes") == "all"
            return JSONResponse(self._view(item, full))
        try:
            body = await request.json()
        except ValueError:
            return error(400, "Malformed JSON body", "bad_request")
        if not isinstance(body, dict):
            return error(400, "The body must be a JSON object", "bad_request")
        with self.lock:
            refusal = self._put(item, body)
            return refusal or JSONResponse(self._view(item, True))

    @staticmethod
    def _view(item: dict[str, Any], full: bool) -> dict[str, Any]:
        view = copy.deepcopy(item)
        if not full:  # variation attributes come only with include_attributes=all
            for variation in view.get("variations") or []:
                variation.pop("attributes", None)
        return view

    def _put(self, item: dict[str, Any], body: dict[str, Any]) -> Response | None:
        # ref: https://developers.mercadolivre.com.br/pt_br/produto-sincronizacao-de-publicacoes
        if (item.get("shipping") or {}).get("logistic_type") == "fulfillment" and (
            "available_quantity" in body or "variations" in body
        ):
            return validation_error(
                "item.available_quantity.not_modifiable",
                "The stock of a fulfillment (Full) item is managed by Mercado Livre",
                "item.available_quantity",
            )
        if "available_quantity" in body:
            if item.get("variations"):
                return validation_error(
                    "item.available_quantity.invalid",
                    "The item has variations: set available_quantity on each variation",
                    "item.available_quantity",
                )
            if not _quantity(body["available_quantity"]):
                return validation_error(
                    "item.available_quantity.invalid",
                    "available_quantity must be an integer >= 0",
                    "item.available_quantity",
                )
            item["available_quantity"] = body["available_quantity"]
        if "variations" in body:
            return self._put_variations(item, body["variations"])
        return None

    @staticmethod
    def _put_variations(item: dict[str, Any], sent: Any) -> Response | None:
        current = {variation["id"]: variation for variation in item.get("variations") or []}
        if not isinstance(sent, list):
            return validation_error(
                "item.variations.invalid", "variations must be a list", "item.variations"
            )
        kept = []
        for entry in sent:
            variation = current.get(entry.get("id")) if isinstance(entry, dict) else None
            if variation is None:
                return validation_error(
                    "item.variations.id.invalid",
                    f"Variation {entry.get('id') if isinstance(entry, dict) else entry} "
                    "does not belong to the item",
                    "item.variations.id",
                )
            if "available_quantity" in entry and not _quantity(entry["available_quantity"]):
                return validation_error(
                    "item.variations.available_quantity.invalid",
                    "available_quantity must be an integer >= 0",
                    "item.variations.available_quantity",
                )
            kept.append((variation, entry))
        # the docs' warning, made real: variations left out of the array are deleted
        item["variations"] = [variation for variation, _ in kept]
        for variation, entry in kept:
            if "available_quantity" in entry:
                variation["available_quantity"] = entry["available_quantity"]
        item["available_quantity"] = sum(v["available_quantity"] for v in item["variations"])
        return None


def _quantity(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _skus(item: dict[str, Any]) -> set[str]:
    found = {_sku(owner) for owner in item.get("variations") or [item]}
    return {sku for sku in found if sku}


def _sku(owner: dict[str, Any]) -> str | None:
    """The SKU ML shows for an item or a variation: its ``SELLER_SKU`` attribute (ref:
    pt_br/variacoes), else the legacy ``seller_custom_field`` the seed gives some items.
    The emulator's own reading of its data: the connector's is the one under test."""
    values = [a.get("value_name") for a in owner.get("attributes") or [] if a["id"] == "SELLER_SKU"]
    return next((str(v) for v in values if v), None) or owner.get("seller_custom_field") or None

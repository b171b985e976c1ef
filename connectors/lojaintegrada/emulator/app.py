"""LojaIntegradaEmulator: the Loja Integrada API v1, in-process.

Faithful to the documented API, awkward parts included:

- every call needs `Authorization: chave_api <api key> aplicacao <app key>` or the store's
  personal token, `Authorization: Basic <token>` (raw, as the spec's example shows it),
  which expires 90 days after it was issued or renewed (help article 931152: 3 months);
  anything else, a mix of the two included, is 401 (the current spec takes the header only);
- paths under /v1 (the documented ones) and /api/v1 (what `resource_uri` and `meta.next`
  say), with or without the trailing slash the deprecated spec used;
- lists are Tastypie's: `limit`/`offset`, `meta.next` carrying every filter; `limit` is
  capped at 50 on /v1/pedido/search (a larger one is served as 50 and `meta.limit` says so);
- `/v1/pedido/search` filters on `since_atualizado`, `since_criado`/`until_criado`,
  `since_numero`, `situacao_id`, in the store's local time, and answers summaries (`cliente`
  a URI, no lines); the full order is `GET /v1/pedido/{numero}` (the number, not the id);
- times carry no offset (Brasília local), money and quantities are decimal strings;
- 100 requests per minute per store, counted over any 60 seconds, answered 429 with
  error 633 (the spec's throttling section; it sends no Retry-After that we know of);
- stock is one `PUT /v1/produto_estoque/{produto_id}` per produto (variations are child
  produtos; a parent `atributo` holds none); situações move with
  `PUT /v1/situacao/pedido/{numero}` and the tracking code with
  `PUT /v1/pedido_envio/{envio_id}`; unknown produtos, orders, envios and situação codes
  are refused.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.lojaintegrada.emulator import seed, wire
from erpsync.domain import utcnow
from erpsync.emulation import Emulator

#: the sandbox store's key pair (config.example.yaml ships with it)
API_KEY = "sandbox-chave-api"
APP_KEY = "sandbox-chave-aplicacao"
#: the sandbox store's personal token (the alternative to the pair)
PERSONAL_TOKEN = "sandbox-personal-token"  # noqa: S105
#: a personal token lives 3 months from its generation or last renewal (help article 931152)
PERSONAL_TOKEN_LIFETIME = timedelta(days=90)
FIRST_NUMERO = 100
#: situações of a paid order the seller has not shipped yet
PAID_NOT_SHIPPED = frozenset({"pedido_pago", "em_producao", "pedido_em_separacao", "faturado"})

Handler = Callable[[Request], Awaitable[Response]]


class LojaIntegradaEmulator(Emulator):
    """One Loja Integrada store with a small catalogue.

    Args (besides the kit's seed/clock/sandbox_orders):
        throttle: enforce 100 requests per minute (off: never 429).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Callable[[], datetime] = utcnow,
        sandbox_orders: int = 8,
        throttle: bool = True,
    ) -> None:
        self.throttle = throttle
        super().__init__(seed=seed, clock=clock, sandbox_orders=sandbox_orders)

    def setup(self) -> None:
        now = self.clock()
        self.situacoes = {row[0]: wire.situacao(row) for row in wire.SITUACOES}
        self.by_codigo = {s["codigo"]: s for s in self.situacoes.values()}
        self.products: dict[int, dict[str, Any]] = {}
        self.stock: dict[int, dict[str, Any]] = {}
        for row in (*seed.CATALOGUE, seed.REMOVED):
            self.add_product(row, now)
        self.products[seed.REMOVED[0]]["removido"] = True
        self.orders: dict[int, dict[str, Any]] = {}
        #: numero -> (created, modified) as aware UTC, for the filters
        self.times: dict[int, tuple[datetime, datetime]] = {}
        self.api_key, self.app_key = API_KEY, APP_KEY
        self.personal_token: str | None = PERSONAL_TOKEN
        self.personal_token_expires = now + PERSONAL_TOKEN_LIFETIME
        self._recent: deque[float] = deque()
        self._state = threading.RLock()

    def routes(self) -> Sequence[BaseRoute]:
        api: list[tuple[str, Handler, list[str]]] = [
            ("/pedido/search", self._search, ["GET"]),
            ("/pedido/{numero:int}", self._pedido, ["GET"]),
            ("/situacao", self._situacao_list, ["GET"]),
            ("/situacao/pedido/{numero:int}", self._move, ["GET", "PUT"]),
            ("/pedido_envio/{envio_id:int}", self._envio, ["PUT"]),
            ("/produto", self._produtos, ["GET"]),
            ("/produto/{produto_id:int}", self._produto, ["GET"]),
            ("/produto_estoque/{produto_id:int}", self._estoque, ["GET", "PUT"]),
        ]
        routes: list[BaseRoute] = []
        for prefix in ("/v1", "/api/v1"):
            for path, handler, methods in api:
                for slash in ("", "/"):
                    routes.append(Route(prefix + path + slash, self._api(handler), methods=methods))
        return routes

    # -- the contract-suite API ------------------------------------------------------------------

    def credentials(self) -> dict[str, Any]:
        return {"api_key": API_KEY, "app_key": APP_KEY}

    def options(self) -> dict[str, Any]:
        return {"limit": 50}

    def seed_orders(self, count: int, *, start: datetime, end: datetime) -> list[str]:
        step = (end - start) / max(count, 1)
        codes = [row[1] for row in wire.SITUACOES]
        made = []
        with self._state:
            for index in range(count):
                numero = FIRST_NUMERO + len(self.orders)
                moment = start + step * index + step * self.random.random()
                situacao = self.by_codigo[codes[len(self.orders) % len(codes)]]
                order = seed.build_order(
                    self.random, self.products, numero=numero, situacao=dict(situacao),
                    modified=moment,
                )  # fmt: skip
                created = wire.parse_local(order["data_criacao"])
                self.orders[numero] = order
                self.times[numero] = (created, moment)
                made.append(str(numero))
        return made

    def update_order(self, external_id: str, **changes: Any) -> None:
        with self._state:
            numero = int(external_id)
            order = self.orders[numero]
            order.update(changes)
            self._touch(numero)

    def cancel_order(self, external_id: str) -> None:
        self.update_order(external_id, situacao=dict(self.by_codigo["pedido_cancelado"]))

    def listing_refs(self) -> list[tuple[str, str | None, str]]:
        return [
            (str(p["id"]), None, p["sku"])
            for p in self.products.values()
            if p["tipo"] != "atributo" and not p["removido"] and p["sku"]
        ]

    def stock_of(self, item_id: str, variation_id: str | None = None) -> int | None:
        row = self.stock.get(int(item_id))
        return int(row["quantidade"]) if row is not None else None

    def tracking_ready(self, external_id: str) -> bool:
        """Paid and not shipped yet: the seller ships and sends the code."""
        order = self.orders.get(int(external_id)) or {}
        codigo = (order.get("situacao") or {}).get("codigo")
        return bool(order.get("envios")) and codigo in PAID_NOT_SHIPPED

    def tracking_code(self, external_id: str) -> str | None:
        order = self.orders.get(int(external_id)) or {}
        envios = order.get("envios") or []
        return envios[0].get("objeto") if envios else None

    def expire_access_tokens(self) -> None:
        """The seller regenerates the store's chave de API (the old pair stops working) and
        removes the personal token."""
        self.api_key = f"{API_KEY}-regenerated"
        self.personal_token = None

    def renew_personal_token(self) -> None:
        """The owner's "Renovar": the same token, 3 months from now."""
        self.personal_token = self.personal_token or PERSONAL_TOKEN
        self.personal_token_expires = self.clock() + PERSONAL_TOKEN_LIFETIME

    # -- emulator controls ---------------------------------------------------------------------

    def add_product(
        self, row: tuple[int, str, str, str, int | None, str, int], now: datetime | None = None
    ) -> dict[str, Any]:
        product = seed.produto(row, now or self.clock())
        self.products[row[0]] = product
        if row[2] != "atributo":
            self.stock[row[0]] = seed.stock_row(row[0], row[6])
        return product

    def rate_limit_response(self, retry_after: float | None) -> Response:
        response = wire.error(
            429, "Limite de requisições por loja excedido", wire.STORE_LIMIT_ERROR
        )
        if retry_after is not None:  # only for the fault kit: the API documents none
            response.headers["Retry-After"] = f"{retry_after:g}"
        return response

    def fault_response(self, status: int) -> Response:
        return wire.error(status, "Erro interno" if status >= 500 else "Erro")

    def malformed_response(self) -> Response:
        return Response(
            b'{"meta": {"limit": 50}, "objects": [{"numero": ', media_type="application/json"
        )

    # -- plumbing ------------------------------------------------------------------------------

    def _api(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            refusal = self._auth_refusal(request.headers.get("authorization", ""))
            if refusal is not None:
                return wire.error(401, refusal)
            if self.throttle and not self._admit():
                return self.rate_limit_response(None)
            return await handler(request)

        return endpoint

    def _auth_refusal(self, header: str) -> str | None:
        """Why the Authorization header is refused, or None: exactly one of the two fixed
        combinations, never mixed."""
        words = header.split()
        if words[:1] == ["Basic"]:
            if len(words) != 2 or self.personal_token is None or words[1] != self.personal_token:
                return "Não autorizado: personal token inválido"
            if self.clock() >= self.personal_token_expires:
                return "Não autorizado: personal token expirado"
            return None
        if words != ["chave_api", self.api_key, "aplicacao", self.app_key]:
            return "Não autorizado: chave_api ou chave_aplicacao inválida"
        return None

    def _admit(self) -> bool:
        """At most 100 requests in any 60 seconds of the emulator's clock."""
        now = self.clock().timestamp()
        with self._state:
            while self._recent and self._recent[0] <= now - 60.0:
                self._recent.popleft()
            if len(self._recent) >= wire.STORE_LIMIT_PER_MINUTE:
                return False
            self._recent.append(now)
            return True

    def _touch(self, numero: int) -> None:
        now = self.clock()
        created, _ = self.times[numero]
        self.times[numero] = (created, now)
        self.orders[numero]["data_modificacao"] = wire.local(now)

    @staticmethod
    def _paging(request: Request, cap: int | None) -> tuple[int, int] | Response:
        try:
            limit = int(request.query_params.get("limit", wire.DEFAULT_LIMIT))
            offset = int(request.query_params.get("offset", 0))
        except ValueError:
            return wire.error(400, "limit e offset devem ser inteiros")
        if limit < 1 or offset < 0:
            return wire.error(400, "limit e offset inválidos")
        return (min(limit, cap) if cap else limit), offset

    async def _search(self, request: Request) -> Response:
        paging = self._paging(request, wire.MAX_LIMIT)
        if isinstance(paging, Response):
            return paging
        limit, offset = paging
        query = request.query_params
        try:
            since = (
                wire.parse_local(query["since_atualizado"]) if "since_atualizado" in query else None
            )
            created_from = (
                wire.parse_local(query["since_criado"]) if "since_criado" in query else None
            )
            created_to = (
                wire.parse_local(query["until_criado"]) if "until_criado" in query else None
            )
            since_numero = int(query.get("since_numero", 0))
            situacao_id = int(query["situacao_id"]) if "situacao_id" in query else None
        except ValueError as exc:
            return wire.error(400, f"filtro inválido: {exc}")
        with self._state:
            found = []
            for numero in sorted(self.orders):  # oldest first: by numero [R: one client]
                created, modified = self.times[numero]
                order = self.orders[numero]
                if since is not None and modified < since:
                    continue
                if created_from is not None and created < created_from:
                    continue
                if created_to is not None and created > created_to:
                    continue
                if numero < since_numero:
                    continue
                if situacao_id is not None and order["situacao"]["id"] != situacao_id:
                    continue
                found.append(order)
            objects = [wire.summary(o) for o in found[offset : offset + limit]]
        params = {k: v for k, v in query.items() if k not in ("limit", "offset")}
        return JSONResponse(
            wire.page("/v1/pedido/search", params, objects, offset=offset, limit=limit,
                      total=len(found))
        )  # fmt: skip

    async def _pedido(self, request: Request) -> Response:
        numero = request.path_params["numero"]
        with self._state:
            order = self.orders.get(numero)
            body = json.loads(json.dumps(order)) if order is not None else None
        if body is None:
            return wire.error(404, f"Pedido {numero} não encontrado")
        return JSONResponse(body)

    async def _situacao_list(self, request: Request) -> Response:
        paging = self._paging(request, None)
        if isinstance(paging, Response):
            return paging
        limit, offset = paging
        rows = list(self.situacoes.values())
        return JSONResponse(
            wire.page("/v1/situacao", {}, rows[offset : offset + limit], offset=offset,
                      limit=limit, total=len(rows))
        )  # fmt: skip

    async def _move(self, request: Request) -> Response:
        numero = request.path_params["numero"]
        with self._state:
            if numero not in self.orders:
                return wire.error(404, f"Pedido {numero} não encontrado")
            if request.method == "GET":
                return JSONResponse(
                    {**self.orders[numero]["situacao"], "pedido": f"/api/v1/pedido/{numero}"}
                )
        body = await _json(request)
        codigo = body.get("codigo") if isinstance(body, dict) else None
        target = self.by_codigo.get(codigo) if isinstance(codigo, str) else None
        if target is None:
            return wire.error(400, f"Situação {codigo!r} não existe")
        with self._state:
            self.orders[numero]["situacao"] = dict(target)
            self._touch(numero)
        return JSONResponse({**target, "pedido": f"/api/v1/pedido/{numero}"})

    async def _envio(self, request: Request) -> Response:
        envio_id = request.path_params["envio_id"]
        body = await _json(request)
        objeto = body.get("objeto") if isinstance(body, dict) else None
        if not isinstance(objeto, str) or not objeto.strip():
            return wire.error(400, "objeto: informe o código de rastreio")
        with self._state:
            for numero, order in self.orders.items():
                for envio in order["envios"]:
                    if envio["id"] == envio_id:
                        envio["objeto"] = objeto.strip()
                        envio["data_modificacao"] = wire.local(self.clock())
                        self._touch(numero)
                        return JSONResponse(envio)
        return wire.error(404, f"Envio {envio_id} não encontrado")

    async def _produtos(self, request: Request) -> Response:
        paging = self._paging(request, None)
        if isinstance(paging, Response):
            return paging
        limit, offset = paging
        sku = request.query_params.get("sku")
        with self._state:
            rows = [p for p in self.products.values() if sku is None or p["sku"] == sku]
            for row in rows:
                stock = self.stock.get(row["id"])
                row["estoque_quantidade"] = stock["quantidade"] if stock else 0
            objects = json.loads(json.dumps(rows[offset : offset + limit]))
        params = {k: v for k, v in request.query_params.items() if k not in ("limit", "offset")}
        return JSONResponse(
            wire.page("/v1/produto", params, objects, offset=offset, limit=limit, total=len(rows))
        )

    async def _produto(self, request: Request) -> Response:
        product = self.products.get(request.path_params["produto_id"])
        if product is None:
            return wire.error(404, "Produto não encontrado")
        return JSONResponse(product)

    async def _estoque(self, request: Request) -> Response:
        pid = request.path_params["produto_id"]
        product = self.products.get(pid)
        if product is None:
            return wire.error(404, f"Produto {pid} não encontrado")
        if product["tipo"] == "atributo":
            # the parent of variations has no stock row: its children do
            return wire.error(400, f"Produto {pid} é um produto com variações: use as variações")
        if request.method == "GET":
            return JSONResponse(self.stock[pid])
        body = await _json(request)
        if not isinstance(body, dict):
            return wire.error(400, "corpo JSON inválido")
        quantity = body.get("quantidade")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            return wire.error(400, f"quantidade: um inteiro >= 0, recebido {quantity!r}")
        with self._state:
            row = self.stock[pid]
            row["quantidade"] = row["quantidade_disponivel"] = quantity
            for key in ("gerenciado", "situacao_em_estoque", "situacao_sem_estoque"):
                if key in body:
                    row[key] = body[key]
            product["data_modificacao"] = wire.local(self.clock())
            return JSONResponse(dict(row))


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        return None

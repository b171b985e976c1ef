"""TinyEmulator: Olist ERP (Tiny API v3) and its Keycloak token endpoint, in-process.

Built from Tiny's v3 OpenAPI document (TINY_V3_OPENAPI.json) and ../shared/apis §6b, and as
strict as the real one where integrators got burnt:

- OAuth2 (Keycloak): `POST /realms/tiny/protocol/openid-connect/token`, form body with the
  client id and secret; every refresh token works once (it rotates) and lives a day, access
  tokens 4 h; a used or unknown one is `400 invalid_grant`;
- `situacao` is an integer (1 is Faturada, not open); a string, or a move the ERP does not
  make (cancelling an order whose NF-e is issued), is a 400;
- orders reference products and contacts by id (`produto.id`, `idContato`): an unknown id is a
  400; `numeroPedidoEcommerce` is kept only for a registered e-commerce (`ecommerce.id`);
- `GET /produtos?codigo=` and `GET /pedidos?numeroPedidoEcommerce=` are searches: they match
  by prefix, so a client must check what comes back;
- stock: `reservado` grows as orders are created (kits reserve their components), the *baixa*
  happens when the order is invoiced; `disponivel` = saldo - reservado (a kit's from its
  components);
- per-minute budgets, one for reads and one for writes, shared by the account: every answer
  carries `X-RateLimit-Limit`, `-Remaining`, `-Reset` (seconds to the next minute); over it,
  429 (no Retry-After: the reset header says when);
- a create's answer can be lost after it is stored (the kit's "lost_answer" fault on
  `order_create_path`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.tiny.emulator import seed, wire
from erpsync.domain import utcnow
from erpsync.emulation import Emulator, bearer_token, read_form
from erpsync.postsale.nfe_builder import NfeSpec, build_nfe

TOKEN_PATH = "/realms/tiny/protocol/openid-connect/token"  # noqa: S105 - a path
CLIENT_ID = "erpsync-sandbox"
CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 - the emulator's fake app secret
REDIRECT_URI = "http://localhost:8910/callback"
ACCESS_TTL = timedelta(hours=4)
REFRESH_TTL = timedelta(days=1)
LOCAL = ZoneInfo("America/Sao_Paulo")
#: situações that hold stock reserved (the ERP has not made the baixa yet)
RESERVING = frozenset({0, 3, 4, 8})
#: situações whose NF-e is issued: the ERP refuses to cancel them
INVOICED = frozenset({1, 7, 5, 6, 9})
SITUACOES = frozenset({8, 0, 3, 4, 1, 7, 5, 6, 2, 9})

Handler = Callable[[Request], Awaitable[Response]]


class TinyEmulator(Emulator):
    """One Olist ERP account.

    Args (besides the kit's seed/clock/sandbox_orders):
        reads_per_minute / writes_per_minute: the account's budgets (the plan's).
        nota_day_zone: the zone whose calendar day `GET /notas?dataInicial=&dataFinal=`
            compares (a nota's creation day). Tiny's documents do not name it: the v3
            document's examples are bare days ("2023-01-01") and times without an offset, API
            2.0 asks "dd/mm/yyyy"; the account's own zone, São Paulo, is the default, and UTC
            lets a test check that a client misses nothing if it were that.
        pedido_day_zone: the same for `GET /pedidos?dataInicial=&dataFinal=`. Tiny's v3
            document (ListarPedidosAction) says both "Pesquisa através da data de criação do
            pedido", a bare string, with no zone: the emulator compares the day the ERP stored
            the order in this zone (São Paulo by default; UTC for the other reading), not the
            `data` the client sent (the channel sale's day, earlier when the order waited).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Callable[[], datetime] = utcnow,
        sandbox_orders: int = 6,
        reads_per_minute: int = 120,
        writes_per_minute: int = 60,
        nota_day_zone: tzinfo = LOCAL,
        pedido_day_zone: tzinfo = LOCAL,
    ) -> None:
        self.budgets = {"read": reads_per_minute, "write": writes_per_minute}
        self.nota_day_zone = nota_day_zone
        self.pedido_day_zone = pedido_day_zone
        super().__init__(seed=seed, clock=clock, sandbox_orders=sandbox_orders)

    order_create_path = "/pedidos"

    def setup(self) -> None:
        self.lock = threading.RLock()
        self.products: dict[int, dict[str, Any]] = {}
        for pid, sku, name, saldo, kit in seed.PRODUCTS:
            self.products[pid] = {
                "id": pid,
                "sku": sku,
                "descricao": name,
                "saldo": saldo,
                "kit": list(kit),
            }
        self.contacts: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.updated: dict[int, datetime] = {}
        #: when each order was stored (what `GET /pedidos?dataInicial=` filters on, by its day)
        self.order_created: dict[int, datetime] = {}
        self.notas: dict[int, dict[str, Any]] = {}
        #: when each nota was created (what `GET /notas?dataInicial=` filters on, by its day)
        self.nota_created: dict[int, datetime] = {}
        self.xmls: dict[int, str] = {}
        self.next_id = {"pedido": 900001, "contato": 500001, "nota": 700001}
        self.number = 1
        self.nota_number = 1
        self.used: dict[str, dict[int, int]] = {"read": {}, "write": {}}
        #: the least budget left any answer reported, per kind (what other apps had left)
        self.low_water: dict[str, int] = dict(self.budgets)
        for buyer in seed.BUYERS:
            self._add_contact(dict(buyer))

    def routes(self) -> list[BaseRoute]:
        api = self._api
        return [
            Route(TOKEN_PATH, self.token, methods=["POST"]),
            Route("/info", api(self.info), methods=["GET"]),
            Route("/pedidos", api(self.list_orders), methods=["GET"]),
            Route("/pedidos", api(self.create_order, write=True), methods=["POST"]),
            Route("/pedidos/{id:int}", api(self.get_order), methods=["GET"]),
            Route(
                "/pedidos/{id:int}/situacao",
                api(self.set_situacao, write=True),
                methods=["PUT"],
            ),
            Route("/contatos", api(self.list_contacts), methods=["GET"]),
            Route("/contatos", api(self.create_contact, write=True), methods=["POST"]),
            Route("/produtos", api(self.list_products), methods=["GET"]),
            Route("/estoque/{id:int}", api(self.stock), methods=["GET"]),
            Route("/notas", api(self.list_notas), methods=["GET"]),
            Route("/notas/{id:int}", api(self.get_nota), methods=["GET"]),
            Route("/notas/{id:int}/xml", api(self.get_xml), methods=["GET"]),
        ]

    # -- the contract-suite API -----------------------------------------------------------------

    #: the config's first refresh token (config.example.yaml): single use, like every other
    bootstrap_refresh_token = "sandbox-refresh-token"  # noqa: S105

    def credentials(self) -> dict[str, Any]:
        return {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": self.bootstrap_refresh_token,
        }

    def options(self) -> dict[str, Any]:
        return {"import_orders": True, "redirect_uri": REDIRECT_URI}

    def seed_orders(self, count: int, *, start: datetime, end: datetime) -> list[str]:
        """Orders the ERP got from elsewhere (Hub da Olist's marketplaces)."""
        step = (end - start) / max(count, 1)
        ids = []
        skus = seed.HUB_SKUS
        for index in range(count):
            when = start + step * index
            sku = skus[index % len(skus)]
            ids.append(self._hub_order(f"MLB-{7000000 + self.number}", sku, 1, when))
        return ids

    def update_order(self, external_id: str, **changes: Any) -> None:
        with self.lock:
            order = self.orders[int(external_id)]
            if order["situacao"] in RESERVING:
                self._baixa(order)
                order["situacao"] = 5
                order["dataEnvio"] = self._local(self.clock())
            else:
                order["dataEntrega"] = self._local(self.clock())[:10]
                order["situacao"] = 6
            self.updated[order["id"]] = self.clock()

    def cancel_order(self, external_id: str) -> None:
        with self.lock:
            order = self.orders[int(external_id)]
            order["situacao"] = 2
            self.updated[order["id"]] = self.clock()

    def listing_refs(self) -> list[tuple[str, str | None, str]]:
        return []  # an ERP has products, not channel listings

    def stock_of(self, item_id: str, variation_id: str | None = None) -> int | None:
        return None

    def erp_skus(self) -> list[str]:
        return [p["sku"] for p in self.products.values() if p["sku"] != "CAM-P-10"]

    def erp_recreate_product(self, sku: str) -> None:
        """The seller deleted the product and registered it again: same code, a new id (the
        old one now answers 404 and is refused in orders)."""
        with self.lock:
            old = next(pid for pid, p in self.products.items() if p["sku"] == sku)
            product = self.products.pop(old)
            product["id"] = max(*self.products, old) + 1
            self.products[product["id"]] = product
            # the orders holding it keep their reservation (of the product as it is now)
            for order in self.orders.values():
                for line in order["itens"]:
                    if line["produto"]["id"] == old:
                        line["produto"]["id"] = product["id"]

    def erp_orders_numbered(self, number: str) -> list[str]:
        with self.lock:
            return [
                str(o["id"])
                for o in self.orders.values()
                if (o.get("ecommerce") or {}).get("numeroPedidoEcommerce") == number
                or o.get("numeroOrdemCompra") == number
            ]

    def erp_order_cancelled(self, remote_id: str) -> bool:
        return bool(self.orders[int(remote_id)]["situacao"] == 2)

    def erp_invoice_order(self, remote_id: str) -> str:
        """Issue the order's NF-e (situação 6 Autorizada), make the baixa, mark it Faturada."""
        with self.lock:
            order = self.orders[int(remote_id)]
            nota_id = self.next_id["nota"]
            self.next_id["nota"] += 1
            buyer = self.contacts[order["cliente"]["id"]]
            spec = NfeSpec(
                number=self.nota_number,
                cnf=f"{nota_id % 100000000:08d}",
                issuer=seed.ACCOUNT_CNPJ,
                recipient=buyer.get("cpfCnpj") or None,
                items=[
                    (
                        self.products[line["produto"]["id"]]["sku"],
                        self.products[line["produto"]["id"]]["descricao"],
                        int(line["quantidade"]),
                        f"{line['valorUnitario']:.2f}",
                    )
                    for line in order["itens"]
                ],
                freight=f"{order['valorFrete']:.2f}",
                discount=f"{order['valorDesconto']:.2f}",
                x_ped=order.get("numeroOrdemCompra"),
                issued=self._local(self.clock(), iso=True),
                authorised=self._local(self.clock(), iso=True),
            )
            self.nota_number += 1
            key = spec.key
            self.xmls[nota_id] = build_nfe(spec).decode()
            self.notas[nota_id] = {
                "id": nota_id,
                "situacao": 6,
                "tipo": "S",
                "numero": f"{spec.number:06d}",
                "serie": str(spec.series),
                "chaveAcesso": key,
                "dataEmissao": self._local(self.clock())[:10],
                "cliente": {"id": buyer["id"], "nome": buyer["nome"], "cpfCnpj": buyer["cpfCnpj"]},
                "valor": order["valorTotalPedido"],
                "valorProdutos": order["valorTotalProdutos"],
                "valorFrete": order["valorFrete"],
                "ecommerce": order.get("ecommerce"),
                "origem": {"id": str(order["id"]), "tipo": "venda"},
            }
            self.nota_created[nota_id] = self.clock()
            self._baixa(order)
            order["idNotaFiscal"] = nota_id
            order["situacao"] = 1
            order["dataFaturamento"] = self._local(self.clock())[:10]
            self.updated[order["id"]] = self.clock()
            return key

    #: situação of a nota fiscal (Olist ERP v3: 1 Pendente, 3 Cancelada, 6 Autorizada)
    NOTA_SITUACOES = {"pending": 1, "cancelled": 3, "authorised": 6}

    def erp_invoice_situation(self, remote_id: str, situation: str) -> None:
        with self.lock:
            nota = self.orders[int(remote_id)]["idNotaFiscal"]
            self.notas[nota]["situacao"] = self.NOTA_SITUACOES[situation]

    def erp_available(self, sku: str) -> int:
        with self.lock:
            product = next(p for p in self.products.values() if p["sku"] == sku)
            return int(self._levels(product)["disponivel"])

    def erp_add_order(self, number: str, sku: str, quantity: int) -> str:
        return self._hub_order(number, sku, quantity, self.clock())

    # -- auth -----------------------------------------------------------------------------------

    def issue_code(self) -> str:
        """An authorization code, as the consent redirect would carry it (tests)."""
        return self.issue_token("code", {"account": seed.ACCOUNT_CNPJ}, timedelta(minutes=5))

    async def token(self, request: Request) -> Response:
        form = await read_form(request)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return _oauth_error(
                401, "invalid_client", "Invalid client or Invalid client credentials"
            )
        grant = form.get("grant_type")
        if grant == "refresh_token":
            token = form.get("refresh_token", "")
            valid = (
                token == self.bootstrap_refresh_token
                or self.read_token("refresh", token) is not None
            ) and self.use_once(token)
        elif grant == "authorization_code":
            code = form.get("code", "")
            valid = (
                self.read_token("code", code) is not None
                and form.get("redirect_uri") == REDIRECT_URI
                and self.use_once(code)
            )
        else:
            return _oauth_error(400, "unsupported_grant_type", f"grant_type {grant!r}")
        if not valid:
            return _oauth_error(400, "invalid_grant", "Token is not active")
        claims = {"account": seed.ACCOUNT_CNPJ}
        return JSONResponse(
            {
                "access_token": self.issue_token("access", claims, ACCESS_TTL),
                "expires_in": int(ACCESS_TTL.total_seconds()),
                "refresh_expires_in": int(REFRESH_TTL.total_seconds()),
                "refresh_token": self.issue_token("refresh", claims, REFRESH_TTL),
                "token_type": "Bearer",
                "scope": "openid email profile",
            }
        )

    def _api(self, handler: Handler, *, write: bool = False) -> Handler:
        """Bearer token, then the account's per-minute budget, on every API call."""
        kind = "write" if write else "read"

        async def guarded(request: Request) -> Response:
            if self.read_token("access", bearer_token(request)) is None:
                return JSONResponse({"mensagem": "Token inválido ou expirado"}, status_code=401)
            headers, over = self._spend(kind)
            if over:
                body = {"mensagem": "Limite de requisições atingido"}
                return JSONResponse(body, status_code=429, headers=headers)
            response = await handler(request)
            response.headers.update(headers)
            return response

        return guarded

    def _spend(self, kind: str) -> tuple[dict[str, str], bool]:
        now = self.clock()
        minute = int(now.timestamp() // 60)
        reset = 60 - int(now.timestamp() % 60)
        limit = self.budgets[kind]
        with self.lock:
            used = self.used[kind]
            count = used.get(minute, 0)
            over = count >= limit
            if not over:
                used[minute] = count + 1
            used.pop(minute - 2, None)
            remaining = limit - used.get(minute, 0)
            self.low_water[kind] = min(self.low_water[kind], remaining)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(remaining, 0)),
            "X-RateLimit-Reset": str(reset),
        }
        return headers, over

    def rate_limit_response(self, retry_after: float | None) -> Response:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
        return JSONResponse(
            {"mensagem": "Limite de requisições atingido"}, status_code=429, headers=headers
        )

    # -- routes ---------------------------------------------------------------------------------

    async def info(self, request: Request) -> Response:
        return JSONResponse(
            {
                "razaoSocial": "Loja Exemplo Ltda",
                "cpfCnpj": seed.ACCOUNT_CNPJ,
                "fantasia": "Loja Exemplo",
                "regimeTributario": 1,
            }
        )

    async def list_orders(self, request: Request) -> Response:
        q = request.query_params
        with self.lock:
            found = sorted(self.orders.values(), key=lambda o: o["id"])
            if q.get("numeroPedidoEcommerce"):
                prefix = q["numeroPedidoEcommerce"]
                found = [
                    o
                    for o in found
                    if str(
                        (o.get("ecommerce") or {}).get("numeroPedidoEcommerce") or ""
                    ).startswith(prefix)
                ]
            if q.get("cpfCnpj"):
                found = [
                    o
                    for o in found
                    if self.contacts[o["cliente"]["id"]].get("cpfCnpj") == q["cpfCnpj"]
                ]
            zone = self.pedido_day_zone
            day = {
                o["id"]: self.order_created[o["id"]].astimezone(zone).date().isoformat()
                for o in found
            }
            if q.get("dataInicial"):
                found = [o for o in found if day[o["id"]] >= q["dataInicial"]]
            if q.get("dataFinal"):
                found = [o for o in found if day[o["id"]] <= q["dataFinal"]]
            if q.get("dataAtualizacao"):
                since = datetime.fromisoformat(q["dataAtualizacao"]).replace(tzinfo=LOCAL)
                found = [o for o in found if self.updated[o["id"]] >= since]
            if q.get("situacao"):
                found = [o for o in found if str(o["situacao"]) == q["situacao"]]
            if q.get("orderBy") == "desc":
                found.reverse()
            listed = [wire.order_listing(o) for o in found]
        return self._page(request, listed)

    async def get_order(self, request: Request) -> Response:
        order = self.orders.get(int(request.path_params["id"]))
        if order is None:
            return JSONResponse({"mensagem": "Pedido não encontrado"}, status_code=404)
        return JSONResponse(self._order_json(order))

    async def create_order(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse(wire.error("JSON inválido"), status_code=400)
        with self.lock:
            problem = self._invalid_order(body)
            if problem:
                return JSONResponse(wire.error("Erro de validação", problem), status_code=400)
            order = self._store_order(body, self.clock())
        return JSONResponse({"id": order["id"], "numeroPedido": str(order["numeroPedido"])})

    async def set_situacao(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse(wire.error("JSON inválido"), status_code=400)
        situacao = body.get("situacao") if isinstance(body, dict) else None
        if type(situacao) is not int or situacao not in SITUACOES:
            return JSONResponse(
                wire.error("Erro de validação", ("situacao", "Situação inválida")),
                status_code=400,
            )
        with self.lock:
            order = self.orders.get(int(request.path_params["id"]))
            if order is None:
                return JSONResponse({"mensagem": "Pedido não encontrado"}, status_code=404)
            if situacao == 2 and order["situacao"] in INVOICED:
                return JSONResponse(
                    wire.error(
                        "Não é possível cancelar um pedido com nota fiscal emitida",
                        ("situacao", "cancele a nota fiscal antes"),
                    ),
                    status_code=400,
                )
            order["situacao"] = situacao
            self.updated[order["id"]] = self.clock()
        return Response(status_code=204)

    async def list_contacts(self, request: Request) -> Response:
        q = request.query_params
        with self.lock:
            found = list(self.contacts.values())
            if q.get("cpfCnpj"):
                found = [c for c in found if c.get("cpfCnpj") == q["cpfCnpj"]]
            if q.get("nome"):
                found = [c for c in found if q["nome"].lower() in (c.get("nome") or "").lower()]
        return self._page(request, found)

    async def create_contact(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse(wire.error("JSON inválido"), status_code=400)
        problem = _invalid_contact(body)
        if problem:
            return JSONResponse(wire.error("Erro de validação", problem), status_code=400)
        # CriarContatoModelRequest's fields only: the ERP drops what it does not know
        kept = {k: v for k, v in body.items() if k in seed.CONTACT_FIELDS}
        with self.lock:
            contact = self._add_contact(kept)
        return JSONResponse({"id": contact["id"]})

    async def list_products(self, request: Request) -> Response:
        code = request.query_params.get("codigo")
        with self.lock:
            found = [
                seed.product_json(p)
                for p in self.products.values()
                if code is None or p["sku"].startswith(code)
            ]
        return self._page(request, found)

    async def stock(self, request: Request) -> Response:
        product = self.products.get(int(request.path_params["id"]))
        if product is None:
            return JSONResponse({"mensagem": "Produto não encontrado"}, status_code=404)
        with self.lock:
            levels = self._levels(product)
        return JSONResponse(
            {
                "id": product["id"],
                "nome": product["descricao"],
                "codigo": product["sku"],
                "unidade": "UN",
                **levels,
                "depositos": [
                    {"id": 1, "nome": "Geral", "desconsiderar": False, "empresa": "", **levels}
                ],
            }
        )

    async def list_notas(self, request: Request) -> Response:
        """ListarNotasFiscaisAction: `tipo` (E/S), `numero`, `cpfCnpj`, `dataInicial` /
        `dataFinal` (the creation day, "2023-01-01" as the document's example: anything else
        is a 400), `situacao` (the 1..10 enum), `numeroPedidoEcommerce`, `idVenda`, `orderBy`;
        items are ListagemNotaFiscalModelResponse (the nota's summary with `origem`)."""
        q = request.query_params
        problem = _invalid_nota_filters(q)
        if problem:
            return JSONResponse(wire.error("Parâmetros inválidos", problem), status_code=400)
        with self.lock:
            found = sorted(self.notas.values(), key=lambda n: n["id"])
            if q.get("tipo"):
                found = [n for n in found if n["tipo"] == q["tipo"]]
            if q.get("numero"):
                found = [n for n in found if int(n["numero"]) == int(q["numero"])]
            if q.get("cpfCnpj"):
                found = [n for n in found if n["cliente"].get("cpfCnpj") == q["cpfCnpj"]]
            zone = self.nota_day_zone
            day = {i: t.astimezone(zone).date().isoformat() for i, t in self.nota_created.items()}
            if q.get("dataInicial"):
                found = [n for n in found if day[n["id"]] >= q["dataInicial"]]
            if q.get("dataFinal"):
                found = [n for n in found if day[n["id"]] <= q["dataFinal"]]
            if q.get("situacao"):
                found = [n for n in found if n["situacao"] == int(q["situacao"])]
            if q.get("numeroPedidoEcommerce"):
                number = q["numeroPedidoEcommerce"]
                found = [
                    n
                    for n in found
                    if (n.get("ecommerce") or {}).get("numeroPedidoEcommerce") == number
                ]
            if q.get("idVenda"):
                found = [n for n in found if (n.get("origem") or {}).get("id") == q["idVenda"]]
            if q.get("orderBy") == "desc":
                found.reverse()
            listed = [wire.nota_listing(n) for n in found]
        return self._page(request, listed)

    async def get_nota(self, request: Request) -> Response:
        nota = self.notas.get(int(request.path_params["id"]))
        if nota is None:
            return JSONResponse({"mensagem": "Nota fiscal não encontrada"}, status_code=404)
        return JSONResponse(nota)

    async def get_xml(self, request: Request) -> Response:
        xml = self.xmls.get(int(request.path_params["id"]))
        if xml is None:
            return JSONResponse({"mensagem": "Nota fiscal não encontrada"}, status_code=404)
        return JSONResponse({"xmlNfe": xml})

    # -- state ----------------------------------------------------------------------------------

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        try:
            limit = int(request.query_params.get("limit", 100))
            offset = int(request.query_params.get("offset", 0))
        except ValueError:
            return JSONResponse(wire.error("Parâmetros inválidos"), status_code=400)
        limit = max(1, min(limit, 100))
        window = items[offset : offset + limit]
        return JSONResponse(wire.page(window, limit=limit, offset=offset, total=len(items)))

    def _add_contact(self, body: dict[str, Any]) -> dict[str, Any]:
        contact_id = self.next_id["contato"]
        self.next_id["contato"] += 1
        contact = {**body, "id": contact_id}
        if contact.get("cpfCnpj"):
            contact["cpfCnpj"] = "".join(ch for ch in str(contact["cpfCnpj"]) if ch.isdigit())
        self.contacts[contact_id] = contact
        return contact

    def _invalid_order(self, body: Any) -> tuple[str, str] | None:
        if not isinstance(body, dict):
            return ("pedido", "corpo inválido")
        if type(body.get("idContato")) is not int or body["idContato"] not in self.contacts:
            return ("idContato", "Contato não encontrado")
        situacao = body.get("situacao", 0)
        if type(situacao) is not int or situacao not in SITUACOES:
            return ("situacao", "Situação inválida")
        items = body.get("itens")
        if not isinstance(items, list) or not items:
            return ("itens", "O pedido deve ter ao menos um item")
        for index, line in enumerate(items):
            product = (line.get("produto") or {}).get("id") if isinstance(line, dict) else None
            if type(product) is not int or product not in self.products:
                return (f"itens[{index}].produto.id", "Produto não encontrado")
            quantity = line.get("quantidade")
            if not isinstance(quantity, int | float) or quantity <= 0:
                return (f"itens[{index}].quantidade", "Quantidade inválida")
            if not isinstance(line.get("valorUnitario"), int | float):
                return (f"itens[{index}].valorUnitario", "Valor inválido")
        ecommerce = body.get("ecommerce")
        if ecommerce is not None and ecommerce.get("id") not in (None, *seed.ECOMMERCES):
            return ("ecommerce.id", "E-commerce não encontrado")
        return None

    def _store_order(self, body: dict[str, Any], when: datetime) -> dict[str, Any]:
        order_id = self.next_id["pedido"]
        self.next_id["pedido"] += 1
        ecommerce = dict(body.get("ecommerce") or {})
        if ecommerce.get("id") in seed.ECOMMERCES:
            ecommerce["nome"] = seed.ECOMMERCES[ecommerce["id"]]
        else:
            # without a registered e-commerce the number is not kept (§6b)
            ecommerce = {}
        contact = self.contacts[body["idContato"]]
        items: list[dict[str, Any]] = [
            {
                "produto": {
                    "id": line["produto"]["id"],
                    "sku": self.products[line["produto"]["id"]]["sku"],
                    "descricao": self.products[line["produto"]["id"]]["descricao"],
                    "tipo": "P",
                },
                "quantidade": float(line["quantidade"]),
                "valorUnitario": float(line["valorUnitario"]),
                "infoAdicional": line.get("infoAdicional") or "",
            }
            for line in body["itens"]
        ]
        products_total = round(sum(i["quantidade"] * i["valorUnitario"] for i in items), 2)
        freight = float(body.get("valorFrete") or 0)
        discount = float(body.get("valorDesconto") or 0)
        order = {
            "id": order_id,
            "numeroPedido": self.number,
            "idNotaFiscal": None,
            "situacao": body.get("situacao", 0),
            "data": body.get("data") or self._local(when)[:10],
            "dataPrevista": body.get("dataPrevista"),
            "numeroOrdemCompra": body.get("numeroOrdemCompra"),
            "valorTotalProdutos": products_total,
            "valorFrete": freight,
            "valorDesconto": discount,
            "valorOutrasDespesas": float(body.get("valorOutrasDespesas") or 0),
            "valorTotalPedido": round(products_total + freight - discount, 2),
            "cliente": {
                "id": contact["id"],
                "nome": contact.get("nome"),
                "cpfCnpj": contact.get("cpfCnpj"),
                "email": contact.get("email"),
            },
            "enderecoEntrega": body.get("enderecoEntrega") or {},
            "ecommerce": ecommerce or None,
            "deposito": body.get("deposito"),
            "itens": items,
            "observacoes": body.get("observacoes"),
            "observacoesInternas": body.get("observacoesInternas"),
            "origemPedido": 0,
        }
        self.number += 1
        self.orders[order_id] = order
        self.updated[order_id] = when
        self.order_created[order_id] = when
        return order

    def _hub_order(self, number: str, sku: str, quantity: int, when: datetime) -> str:
        with self.lock:
            product = next(p for p in self.products.values() if p["sku"] == sku)
            buyer = next(iter(self.contacts.values()))
            order = self._store_order(
                {
                    "idContato": buyer["id"],
                    "situacao": 3,
                    "data": self._local(when)[:10],
                    "ecommerce": {"id": seed.HUB_ECOMMERCE, "numeroPedidoEcommerce": number},
                    "itens": [
                        {
                            "produto": {"id": product["id"]},
                            "quantidade": quantity,
                            "valorUnitario": 49.9,
                        }
                    ],
                    "valorFrete": 0,
                },
                when,
            )
            order["ecommerce"]["canalVenda"] = "Mercado Livre"
            return str(order["id"])

    def _units(self, product: dict[str, Any], quantity: float) -> list[tuple[int, float]]:
        if not product["kit"]:
            return [(product["id"], quantity)]
        units = []
        for sku, per_kit in product["kit"]:
            component = next(p for p in self.products.values() if p["sku"] == sku)
            units.append((component["id"], quantity * per_kit))
        return units

    def _reserved(self, product_id: int) -> float:
        held = 0.0
        for order in self.orders.values():
            if order["situacao"] not in RESERVING:
                continue
            for line in order["itens"]:
                for unit_id, qty in self._units(
                    self.products[line["produto"]["id"]], line["quantidade"]
                ):
                    if unit_id == product_id:
                        held += qty
        return held

    def _levels(self, product: dict[str, Any]) -> dict[str, float]:
        if product["kit"]:
            fits = []
            for sku, per_kit in product["kit"]:
                component = next(p for p in self.products.values() if p["sku"] == sku)
                fits.append(self._levels(component)["disponivel"] // per_kit)
            available = float(min(fits)) if fits else 0.0
            return {"saldo": available, "reservado": 0.0, "disponivel": available}
        saldo = float(product["saldo"])
        reservado = self._reserved(product["id"])
        return {"saldo": saldo, "reservado": reservado, "disponivel": saldo - reservado}

    def _baixa(self, order: dict[str, Any]) -> None:
        """The stock leaves: saldo goes down (and the reservation with the situação)."""
        if order.get("baixa"):
            return
        for line in order["itens"]:
            for unit_id, qty in self._units(
                self.products[line["produto"]["id"]], line["quantidade"]
            ):
                self.products[unit_id]["saldo"] -= qty
        order["baixa"] = True

    def _order_json(self, order: dict[str, Any]) -> dict[str, Any]:
        """ObterPedidoModelResponse (internal bookkeeping left out)."""
        return {k: v for k, v in order.items() if k != "baixa"}

    @staticmethod
    def _local(moment: datetime, *, iso: bool = False) -> str:
        local = moment.astimezone(LOCAL)
        return local.isoformat(timespec="seconds") if iso else local.strftime("%Y-%m-%d %H:%M:%S")


def _oauth_error(status: int, error: str, description: str) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _invalid_nota_filters(q: Any) -> tuple[str, str] | None:
    """What `GET /notas` refuses: a date not in the document's "2023-01-01" form, a `tipo`
    or `situacao` outside its enum, a non-integer `numero` or `idVenda`."""
    for name in ("dataInicial", "dataFinal"):
        value = q.get(name)
        if value is None:
            continue
        try:
            valid = len(value) == 10 and date.fromisoformat(value).isoformat() == value
        except ValueError:
            valid = False
        if not valid:
            return (name, "Data inválida, use o formato AAAA-MM-DD")
    if q.get("tipo") is not None and q["tipo"] not in ("E", "S"):
        return ("tipo", "Tipo inválido")
    if q.get("situacao") is not None and q["situacao"] not in {str(n) for n in range(1, 11)}:
        return ("situacao", "Situação inválida")
    for name in ("numero", "idVenda"):
        if q.get(name) is not None and not q[name].isdigit():
            return (name, "Valor inválido")
    return None


def _invalid_contact(body: Any) -> tuple[str, str] | None:
    """CriarContatoModelRequest as the ERP checks it: a name, the enums (tipoPessoa J/F/E/X,
    situacao B/A/I/E), a CPF for a pessoa física and a CNPJ for a jurídica, and the address as
    an EnderecoModel object."""
    if not isinstance(body, dict) or not body.get("nome"):
        return ("nome", "obrigatório")
    tipo = body.get("tipoPessoa")
    if tipo is not None and tipo not in seed.TIPOS_PESSOA:
        return ("tipoPessoa", "Tipo de pessoa inválido")
    situacao = body.get("situacao")
    if situacao is not None and situacao not in seed.CONTACT_SITUACOES:
        return ("situacao", "Situação inválida")
    document = "".join(ch for ch in str(body.get("cpfCnpj") or "") if ch.isdigit())
    if document and {"F": 11, "J": 14}.get(str(tipo), len(document)) != len(document):
        return ("cpfCnpj", "CPF/CNPJ não corresponde ao tipo de pessoa")
    endereco = body.get("endereco")
    if endereco is not None and (
        not isinstance(endereco, dict) or not set(endereco) <= seed.ADDRESS_FIELDS
    ):
        return ("endereco", "Endereço inválido")
    return None

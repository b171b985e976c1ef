"""BlingEmulator: Bling API v3 and its token endpoint, in-process.

Faithful to the documented API, awkward parts included:

- OAuth2 authorization code with the app's credentials as HTTP Basic on `/oauth/token` (a form
  body); every refresh rotates the refresh token and the old one is refused once used;
  access tokens last 6 h;
- 3 requests per second per account, and a daily quota, each answered with 429 and
  `error.type` TOO_MANY_REQUESTS (no Retry-After);
- situações of sales orders have ids of this account's own (`/situacoes/modulos`): a client that
  hard-codes the usual defaults (6, 9, 12, 15) is refused;
- `GET /produtos?codigos[]=` matches codes by prefix (a loose search, as integrators found);
- orders reserve stock: `saldoVirtual` = `saldoFisico` less what open orders hold, in the
  default depósito; a cancelled order releases it;
- an order with an authorised NF-e can no longer be cancelled;
- an order is stored even when its answer is lost (the kit's `lost_answer` fault), and Bling
  itself does not refuse a second order with the same `numeroLoja`: duplicates are the
  client's to avoid, and `erp_orders_numbered` shows them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import threading
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from erpsync import documents
from erpsync.connectors.bling.emulator import seed, wire
from erpsync.domain import utcnow
from erpsync.emulation import Emulator, TokenBucket, bearer_token, read_form
from erpsync.postsale.nfe_builder import build_nfe

CLIENT_ID = "sandbox-bling-app"
CLIENT_SECRET = "sandbox-bling-secret"  # noqa: S105 - the emulator's fake app secret
#: the refresh token config.example.yaml ships with: single use per emulator life
BOOTSTRAP_REFRESH = "sandbox-bling-refresh"
REDIRECT_URI = "https://erpsync.example/bling/callback"
SCOPES = "98309 98310 98313 98314 106168710 5990556 6631498 199272829"
BRAZIL = ZoneInfo("America/Sao_Paulo")
#: where the `xml` field of an NF-e points: not the XML but a signed link to it,
#: `https://www.bling.com.br/relatorios/nfe.xml.php?chaveAcesso=...&signature=...` [R: an
#: integrator's note found against a real authorised NFC-e; v2-era payloads link the same report]
XML_PATH = "/relatorios/nfe.xml.php"

Handler = Callable[[Request], Awaitable[Response]]


class BlingEmulator(Emulator):
    """One Bling account with a small catalogue in two depósitos.

    Args (besides the kit's seed/clock/sandbox_orders):
        throttle: enforce the per-second limit with 429 (off: benchmarks that bring their own).
        daily_limit: the daily quota.
    """

    order_create_path = "/pedidos/vendas"

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Callable[[], datetime] = utcnow,
        sandbox_orders: int = 0,
        throttle: bool = True,
        daily_limit: int = wire.PER_DAY,
    ) -> None:
        self.throttle = throttle
        self.daily_limit = daily_limit
        super().__init__(seed=seed, clock=clock, sandbox_orders=sandbox_orders)

    def setup(self) -> None:
        rng = self.random
        self.state = threading.RLock()
        self.products = seed.products(rng)
        self.depositos = seed.depositos(rng)
        self.lojas = dict(seed.LOJAS)
        self.formas = dict(seed.FORMAS_PAGAMENTO)
        self.module_id, self.situacoes = seed.situacoes(rng)
        self.modules = [{"id": self.module_id, **seed.SALES_MODULE}] + [
            {"id": self.module_id + 1 + i, **m} for i, m in enumerate(seed.OTHER_MODULES)
        ]
        self.fisico = seed.stock(
            rng, [p["id"] for p in self.products], [d["id"] for d in self.depositos]
        )
        self.contatos: dict[int, dict[str, Any]] = {}
        self.pedidos: dict[int, dict[str, Any]] = {}
        #: when each order last changed (`dataAlteracao*` filters on it; not in its payload)
        self.altered: dict[int, datetime] = {}
        self.nfes: dict[int, dict[str, Any]] = {}
        self.nfe_xml: dict[str, bytes] = {}
        self._serial = 0
        #: 3 requests per second: a bucket of 3 refilled at 3/s, on the emulator's clock read in
        #: whole milliseconds (rounded up: a client pacing at exactly 1/3 s must not lose a
        #: token to the clock's microsecond truncation)
        self.bucket = TokenBucket(
            wire.PER_SECOND,
            wire.PER_SECOND,
            clock=lambda: math.ceil(self.clock().timestamp() * 1000) / 1000,
        )
        self._day: tuple[Any, int] | None = None

    def seed_sandbox(self, orders: int) -> None:
        """Bling's orders come from erpsync (push-orders): the sandbox starts without any."""

    def routes(self) -> Sequence[BaseRoute]:
        api: list[tuple[str, Handler, list[str]]] = [
            ("/situacoes/modulos", self._modules, ["GET"]),
            ("/situacoes/modulos/{module_id:int}", self._module_situacoes, ["GET"]),
            ("/produtos", self._produtos, ["GET"]),
            ("/contatos", self._contatos, ["GET", "POST"]),
            ("/pedidos/vendas", self._pedidos, ["GET", "POST"]),
            ("/pedidos/vendas/{pedido_id:int}", self._pedido, ["GET"]),
            (
                "/pedidos/vendas/{pedido_id:int}/situacoes/{situacao_id:int}",
                self._change_situacao,
                ["PATCH"],
            ),
            ("/estoques/saldos", self._saldos, ["GET"]),
            ("/nfe/{nfe_id:int}", self._nfe, ["GET"]),
        ]
        routes: list[BaseRoute] = [Route(XML_PATH, self._xml, methods=["GET"])]
        # base_url may or may not carry the version path: /Api/v3/pedidos/... or /pedidos/...
        for prefix in ("/Api/v3", ""):
            routes.append(Route(prefix + "/oauth/token", self._token, methods=["POST"]))
            routes += [Route(prefix + path, self._api(h), methods=m) for path, h, m in api]
        return routes

    # -- the contract-suite API ----------------------------------------------------------------

    def credentials(self) -> dict[str, Any]:
        return {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": BOOTSTRAP_REFRESH,
        }

    def options(self) -> dict[str, Any]:
        return {"redirect_uri": REDIRECT_URI, "loja_id": next(iter(self.lojas))}

    def erp_skus(self) -> list[str]:
        return [p["codigo"] for p in self.products]

    def erp_recreate_product(self, sku: str) -> None:
        """The seller deleted the product and registered it again: same code, a new id (the
        old one is refused in orders and has no balance)."""
        with self.state:
            product = next(p for p in self.products if p["codigo"] == sku)
            old, product["id"] = product["id"], max(p["id"] for p in self.products) + 1
            for product_id, deposit in [key for key in self.fisico if key[0] == old]:
                self.fisico[(product["id"], deposit)] = self.fisico.pop((product_id, deposit))

    def erp_orders_numbered(self, number: str) -> list[str]:
        with self.state:
            return [str(i) for i, p in self.pedidos.items() if p["numeroLoja"] == number]

    def erp_order_cancelled(self, remote_id: str) -> bool:
        with self.state:
            pedido = self.pedidos[int(remote_id)]
            return bool(pedido["situacao"]["id"] == self.situacao_id("Cancelado"))

    def erp_invoice_order(self, remote_id: str) -> str:
        """Issue and authorise the order's NF-e (situação 5); the order becomes Atendido."""
        with self.state:
            pedido = self.pedidos[int(remote_id)]
            nfe_id = 11_000_000_000 + len(self.nfes) + 1
            number = 1000 + len(self.nfes) + 1
            contato = self.contatos.get(pedido["contato"]["id"], {})
            recipient = contato.get("numeroDocumento") or None
            xml = build_nfe(
                number=number,
                items=[_nfe_item(i) for i in pedido["itens"]],
                freight=_money(pedido["transporte"].get("frete", 0)),
                discount=_money(pedido["desconto"]["valor"]),
                recipient=recipient,
                x_ped=pedido["numeroLoja"] or None,
                issued=self._local(self.clock()).isoformat(timespec="seconds"),
                authorised=self._local(self.clock()).isoformat(timespec="seconds"),
            )
            key = _access_key(xml)
            self.nfe_xml[key] = xml
            self.nfes[nfe_id] = {
                "id": nfe_id,
                "tipo": 1,
                "situacao": wire.NFE_AUTORIZADA,
                "numero": str(number),
                "serie": 1,
                "dataEmissao": self._local(self.clock()).strftime("%Y-%m-%d %H:%M:%S"),
                "dataOperacao": self._local(self.clock()).strftime("%Y-%m-%d %H:%M:%S"),
                "chaveAcesso": key,
                "contato": {"id": pedido["contato"]["id"], "nome": contato.get("nome", "")},
                "loja": pedido["loja"],
                "numeroPedidoLoja": pedido["numeroLoja"],
                "linkDanfe": f"https://www.bling.com.br/doc.view.php?id={key}",
                "linkPDF": f"https://www.bling.com.br/doc.view.php?PDF=true&id={key}",
            }
            pedido["notaFiscal"] = {"id": nfe_id}
            self._move(pedido, self.situacao_id("Atendido"))
            self.altered[pedido["id"]] = self.clock()
            return key

    #: situação of an NF-e (Bling v3: 1 Pendente, 2 Cancelada, 5 Autorizada)
    NFE_SITUACOES = {"pending": 1, "cancelled": 2, "authorised": wire.NFE_AUTORIZADA}

    def erp_invoice_situation(self, remote_id: str, situation: str) -> None:
        with self.state:
            nfe = self.pedidos[int(remote_id)]["notaFiscal"]["id"]
            self.nfes[nfe]["situacao"] = self.NFE_SITUACOES[situation]

    def erp_available(self, sku: str) -> int:
        product = self._product_by_code(sku)
        assert product is not None, sku
        with self.state:
            reserved = self._reservations()
            return int(sum(self._balance(product["id"], d, reserved)[1] for d in self.depositos))

    def erp_add_order(self, number: str, sku: str, quantity: int) -> str:
        """An order a marketplace hub put into Bling (in its own loja)."""
        product = self._product_by_code(sku)
        assert product is not None, sku
        with self.state:
            contato = self._new_contato({"nome": "Comprador do Hub", "tipo": "F"})
            hub_loja = list(self.lojas)[-1]
            body = {
                "numeroLoja": number,
                "data": self._local(self.clock()).date().isoformat(),
                "contato": {"id": contato["id"]},
                "loja": {"id": hub_loja},
                "itens": [
                    {
                        "codigo": sku,
                        "quantidade": quantity,
                        "valor": product["preco"],
                        "descricao": product["nome"],
                        "produto": {"id": product["id"]},
                    }
                ],
            }
            return str(self._store_pedido(body)["id"])

    # -- emulator controls ---------------------------------------------------------------------

    def situacao_id(self, name: str) -> int:
        return int(next(s["id"] for s in self.situacoes if s["nome"] == name))

    def issue_authorization_code(self) -> str:
        """The `code` of the consent redirect (valid for a few minutes)."""
        return self.issue_token("code", {"account": self.module_id}, ttl=timedelta(minutes=1))

    def rate_limit_response(self, retry_after: float | None) -> Response:
        response = wire.too_many(daily=False)
        if retry_after is not None:  # Bling sends none; the fault kit's value is passed on
            response.headers["Retry-After"] = f"{retry_after:g}"
        return response

    def fault_response(self, status: int) -> Response:
        return wire.error(status, "INTERNAL_ERROR", "Erro interno", "Erro interno do servidor")

    # -- plumbing ------------------------------------------------------------------------------

    def _api(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            if self.read_token("access", bearer_token(request)) is None:
                return wire.unauthorized()
            with self.state:
                day = self._local(self.clock()).date()
                used = self._day[1] if self._day is not None and self._day[0] == day else 0
                if used >= self.daily_limit:
                    return wire.too_many(daily=True)
                if self.throttle and not self.bucket.try_take():
                    return wire.too_many(daily=False)
                self._day = (day, used + 1)
            return await handler(request)

        return endpoint

    def _local(self, moment: datetime) -> datetime:
        return moment.astimezone(BRAZIL)

    @staticmethod
    async def _json(request: Request) -> tuple[Any, Response | None]:
        try:
            return json.loads(await request.body()), None
        except ValueError:
            return None, wire.error(400, "VALIDATION_ERROR", "JSON inválido", "Corpo inválido")

    def _page(self, request: Request, rows: list[dict[str, Any]]) -> Response:
        try:
            page = int(request.query_params.get("pagina", "1"))
            limit = int(request.query_params.get("limite", str(wire.DEFAULT_PAGE)))
        except ValueError:
            return wire.validation("Parâmetros inválidos", wire.field("pagina", "inválido"))
        limit = max(1, min(limit, wire.MAX_PAGE))  # no total: a client pages until one is empty
        start = (max(page, 1) - 1) * limit
        return wire.data(json.loads(json.dumps(rows[start : start + limit])))

    # -- token endpoint ------------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        """ref: developer.bling.com.br/aplicativos ("Fluxo de autorização", "Refresh token")."""
        if _basic(request) != (CLIENT_ID, CLIENT_SECRET):
            return wire.oauth_error(401, "invalid_client", "Invalid client credentials")
        form = await read_form(request)
        grant = form.get("grant_type")
        if grant == "refresh_token":
            token = form.get("refresh_token", "")
            known = token == BOOTSTRAP_REFRESH or self.read_token("refresh", token) is not None
            if not (known and self.use_once(token)):
                return wire.oauth_error(400, "invalid_grant", "Invalid refresh token")
        elif grant == "authorization_code":
            code = form.get("code", "")
            if self.read_token("code", code) is None or not self.use_once(code):
                return wire.oauth_error(400, "invalid_grant", "Invalid authorization code")
        else:
            return wire.oauth_error(400, "unsupported_grant_type", f"grant_type {grant!r}")
        account = {"account": self.module_id}
        return Response(
            json.dumps(
                {
                    "access_token": self.issue_token(
                        "access", account, timedelta(seconds=wire.ACCESS_TTL_SECONDS)
                    ),
                    "expires_in": wire.ACCESS_TTL_SECONDS,
                    "token_type": "Bearer",
                    "scope": SCOPES,
                    "refresh_token": self.issue_token(
                        "refresh", account, timedelta(days=wire.REFRESH_TTL_DAYS)
                    ),
                }
            ),
            media_type="application/json",
        )

    # -- situações -----------------------------------------------------------------------------

    async def _modules(self, request: Request) -> Response:
        return wire.data(self.modules)

    async def _module_situacoes(self, request: Request) -> Response:
        if request.path_params["module_id"] != self.module_id:
            known = {m["id"] for m in self.modules}
            if request.path_params["module_id"] in known:
                return wire.data([])
            return wire.not_found("Módulo")
        return wire.data(self.situacoes)

    # -- products and stock --------------------------------------------------------------------

    async def _produtos(self, request: Request) -> Response:
        codes = tuple(request.query_params.getlist("codigos[]"))
        ids = {int(i) for i in request.query_params.getlist("idsProdutos[]") if i.isdigit()}
        rows = [
            p
            for p in self.products
            # a loose match: a code that merely starts with the asked one is listed too
            if (not codes or p["codigo"].startswith(codes)) and (not ids or p["id"] in ids)
        ]
        return self._page(request, rows)

    async def _saldos(self, request: Request) -> Response:
        ids = request.query_params.getlist("idsProdutos[]")
        codes = request.query_params.getlist("codigos[]")
        if not ids and not codes:
            return wire.validation(
                "Informe os produtos",
                wire.field("idsProdutos", "obrigatório", namespace="ESTOQUES"),
            )
        wanted = {int(i) for i in ids if i.isdigit()}
        rows = []
        with self.state:
            reserved = self._reservations()
            for product in self.products:
                if product["id"] not in wanted and product["codigo"] not in codes:
                    continue
                deposits = []
                for deposit in self.depositos:
                    physical, virtual = self._balance(product["id"], deposit, reserved)
                    deposits.append(
                        {"id": deposit["id"], "saldoFisico": physical, "saldoVirtual": virtual}
                    )
                rows.append(
                    {
                        "produto": {"id": product["id"], "codigo": product["codigo"]},
                        "saldoFisicoTotal": sum(d["saldoFisico"] for d in deposits),
                        "saldoVirtualTotal": sum(d["saldoVirtual"] for d in deposits),
                        "depositos": deposits,
                    }
                )
        return wire.data(rows)

    def _balance(
        self, product_id: int, deposit: dict[str, Any], reserved: dict[int, float]
    ) -> tuple[float, float]:
        """(saldoFisico, saldoVirtual) of a product in a depósito: open orders reserve in the
        default depósito."""
        physical = float(self.fisico.get((product_id, deposit["id"]), 0))
        if not deposit["padrao"]:
            return physical, physical
        return physical, physical - reserved.get(product_id, 0.0)

    def _reservations(self) -> dict[int, float]:
        """Product id -> quantity held by open orders (not cancelled, not yet served)."""
        closed = (self.situacao_id("Cancelado"), self.situacao_id("Atendido"))
        held: dict[int, float] = {}
        for pedido in self.pedidos.values():
            if pedido["situacao"]["id"] in closed:
                continue
            for item in pedido["itens"]:
                product = item["produto"]["id"]
                held[product] = held.get(product, 0.0) + float(item["quantidade"])
        return held

    def _product_by_code(self, code: str) -> dict[str, Any] | None:
        return next((p for p in self.products if p["codigo"] == code), None)

    # -- contatos ------------------------------------------------------------------------------

    async def _contatos(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._create_contato(request)
        document = request.query_params.get("numeroDocumento")
        with self.state:
            rows = [
                {k: c[k] for k in ("id", "nome", "codigo", "situacao", "numeroDocumento")}
                | {"telefone": c.get("telefone", ""), "celular": c.get("celular", "")}
                for c in self.contatos.values()
                if document is None or c["numeroDocumento"] == _digits(document)
            ]
        return self._page(request, rows)

    async def _create_contato(self, request: Request) -> Response:
        body, problem = await self._json(request)
        if problem is not None:
            return problem
        if not isinstance(body, dict) or not str(body.get("nome") or "").strip():
            return wire.validation(
                "Não foi possível salvar o contato",
                wire.field("nome", "O nome do contato deve ser informado", namespace="CONTATOS"),
            )
        document = _digits(body.get("numeroDocumento"))
        kind = body.get("tipo", "F")
        if document and len(document) != (11 if kind == "F" else 14):
            return wire.validation(
                "Não foi possível salvar o contato",
                wire.field("numeroDocumento", "CPF/CNPJ inválido", namespace="CONTATOS"),
            )
        with self.state:
            contato = self._new_contato(body)
        return wire.data({"id": contato["id"]}, status=201)

    def _new_contato(self, body: dict[str, Any]) -> dict[str, Any]:
        contato_id = 17_000_000_000 + len(self.contatos) + 1
        contato = {
            "id": contato_id,
            "nome": str(body.get("nome")),
            "codigo": "",
            "situacao": body.get("situacao", "A"),
            "numeroDocumento": _digits(body.get("numeroDocumento")),
            "telefone": body.get("telefone", ""),
            "celular": body.get("celular", ""),
            "tipo": body.get("tipo", "F"),
            "email": body.get("email", ""),
            "endereco": body.get("endereco", {}),
        }
        self.contatos[contato_id] = contato
        return contato

    # -- sales orders --------------------------------------------------------------------------

    async def _pedidos(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._create_pedido(request)
        query = request.query_params
        numbers = query.getlist("numerosLojas[]")
        loja = query.get("idLoja")
        situacoes = {int(s) for s in query.getlist("idsSituacoes[]") if s.isdigit()}
        periods, refused = _periods(query)
        if refused is not None:
            return refused
        with self.state:
            rows = [
                _summary(p)
                for p in sorted(self.pedidos.values(), key=lambda p: p["id"])
                if (not numbers or p["numeroLoja"] in numbers)
                and (loja is None or str(p["loja"]["id"]) == loja)
                and (not situacoes or p["situacao"]["id"] in situacoes)
                and self._in_periods(p, periods)
            ]
        return self._page(request, rows)

    def _in_periods(
        self, pedido: dict[str, Any], periods: dict[str, tuple[datetime, datetime]]
    ) -> bool:
        """Whether the order's date (`data`, a day) and last change fall in the periods."""
        # Bling keeps times to the second
        altered = self._local(self.altered[pedido["id"]]).replace(microsecond=0)
        when: dict[str, datetime] = {"dataAlteracao": altered}
        try:
            when["data"] = datetime.combine(
                date.fromisoformat(str(pedido["data"])[:10]), time(), BRAZIL
            )
        except ValueError:
            if "data" in periods:
                return False
        return all(low <= when[name] <= high for name, (low, high) in periods.items())

    async def _pedido(self, request: Request) -> Response:
        with self.state:
            pedido = self.pedidos.get(request.path_params["pedido_id"])
            if pedido is None:
                return wire.not_found("Pedido de venda")
            return wire.data(json.loads(json.dumps(pedido)))

    async def _create_pedido(self, request: Request) -> Response:
        body, problem = await self._json(request)
        if problem is not None:
            return problem
        if not isinstance(body, dict):
            return wire.validation("Não foi possível salvar a venda", wire.field("", "corpo"))
        with self.state:
            refused = self._refusal(body)
            if refused is not None:
                return refused
            pedido = self._store_pedido(body)
        return wire.data({"id": pedido["id"], "alertas": []}, status=201)

    def _refusal(self, body: dict[str, Any]) -> Response | None:
        """Bling's validation of a new sales order (what the reference marks required)."""
        problems = []
        contato = body.get("contato")
        if not isinstance(contato, dict) or contato.get("id") not in self.contatos:
            problems.append(wire.field("contato", "O contato informado não existe"))
        loja = body.get("loja")
        if isinstance(loja, dict) and loja.get("id") not in self.lojas:
            problems.append(wire.field("loja", "A loja informada não existe"))
        items = body.get("itens")
        if not isinstance(items, list) or not items:
            problems.append(wire.field("itens", "A venda deve possuir ao menos um item"))
        for index, item in enumerate(items if isinstance(items, list) else []):
            product_id = (item.get("produto") or {}).get("id") if isinstance(item, dict) else None
            if product_id is not None and not any(p["id"] == product_id for p in self.products):
                problems.append(wire.field(f"itens[{index}].produto", "Produto não encontrado"))
            quantity = item.get("quantidade") if isinstance(item, dict) else None
            if not isinstance(quantity, int | float) or quantity <= 0:
                problems.append(wire.field(f"itens[{index}].quantidade", "Quantidade inválida"))
        intermediador = body.get("intermediador")
        if intermediador is not None:
            problems += _intermediador_problems(intermediador)
        for index, parcela in enumerate(body.get("parcelas") or []):
            forma = (parcela.get("formaPagamento") or {}).get("id")
            if forma not in self.formas:
                problems.append(
                    wire.field(f"parcelas[{index}].formaPagamento", "Forma de pagamento inválida")
                )
        if problems:
            return wire.validation("Não foi possível salvar a venda", *problems)
        return None

    def _store_pedido(self, body: dict[str, Any]) -> dict[str, Any]:
        self._serial += 1
        pedido_id = 22_000_000_000 + self._serial
        items = []
        for index, item in enumerate(body["itens"]):
            product = next(
                (p for p in self.products if p["id"] == (item.get("produto") or {}).get("id")),
                None,
            ) or self._product_by_code(str(item.get("codigo") or ""))
            items.append(
                {
                    "id": pedido_id * 10 + index,
                    "codigo": item.get("codigo") or (product or {}).get("codigo", ""),
                    "unidade": item.get("unidade", "UN"),
                    "quantidade": item["quantidade"],
                    "desconto": item.get("desconto", 0),
                    "valor": item.get("valor", 0),
                    "aliquotaIPI": 0,
                    "descricao": item.get("descricao", ""),
                    "descricaoDetalhada": "",
                    "produto": {"id": (product or {}).get("id", 0)},
                    "comissao": {"base": 0, "aliquota": 0, "valor": 0},
                }
            )
        products_total = sum(
            Decimal(str(i["valor"])) * Decimal(str(i["quantidade"])) for i in items
        )
        transport = body.get("transporte") or {}
        discount = (body.get("desconto") or {}).get("valor", 0)
        total = products_total + Decimal(str(transport.get("frete", 0))) - Decimal(str(discount))
        pedido = {
            "id": pedido_id,
            "numero": 5000 + self._serial,
            "numeroLoja": str(body.get("numeroLoja") or ""),
            "data": body.get("data", ""),
            "dataSaida": body.get("dataSaida", ""),
            "dataPrevista": body.get("dataPrevista", ""),
            "totalProdutos": float(products_total),
            "total": float(total),
            "contato": {
                "id": body["contato"]["id"],
                "nome": self.contatos[body["contato"]["id"]]["nome"],
                "tipoPessoa": self.contatos[body["contato"]["id"]]["tipo"],
                "numeroDocumento": self.contatos[body["contato"]["id"]]["numeroDocumento"],
            },
            "situacao": {"id": self.situacao_id("Em aberto"), "valor": 0},
            "loja": {"id": (body.get("loja") or {}).get("id", 0)},
            "numeroPedidoCompra": body.get("numeroPedidoCompra", ""),
            "outrasDespesas": body.get("outrasDespesas", 0),
            "observacoes": body.get("observacoes", ""),
            "observacoesInternas": body.get("observacoesInternas", ""),
            "desconto": {"valor": discount, "unidade": "REAL"},
            "categoria": {"id": 0},
            "notaFiscal": {"id": 0},
            "tributacao": {"totalICMS": 0, "totalIPI": 0},
            "itens": items,
            "parcelas": body.get("parcelas", []),
            "transporte": {"fretePorConta": 0, "frete": transport.get("frete", 0)}
            | ({"etiqueta": transport["etiqueta"]} if transport.get("etiqueta") else {}),
            "vendedor": {"id": 0},
            "intermediador": body.get("intermediador", {"cnpj": "", "nomeUsuario": ""}),
            "taxas": {"taxaComissao": 0, "custoFrete": 0, "valorBase": 0},
        }
        self.pedidos[pedido_id] = pedido
        self.altered[pedido_id] = self.clock()
        return pedido

    async def _change_situacao(self, request: Request) -> Response:
        """ref: PATCH /pedidos/vendas/{idPedidoVenda}/situacoes/{idSituacao}: 204."""
        with self.state:
            pedido = self.pedidos.get(request.path_params["pedido_id"])
            if pedido is None:
                return wire.not_found("Pedido de venda")
            target = request.path_params["situacao_id"]
            if not any(s["id"] == target for s in self.situacoes):
                return wire.validation(
                    "Situação inválida", wire.field("idSituacao", "A situação informada não existe")
                )
            invoiced = self.nfes.get(pedido["notaFiscal"]["id"], {}).get("situacao")
            if target == self.situacao_id("Cancelado") and invoiced in (5, 6, 7):
                return wire.validation(
                    "Não foi possível alterar a situação",
                    wire.field(
                        "situacao",
                        "O pedido possui nota fiscal autorizada; cancele a nota antes",
                    ),
                )
            self._move(pedido, target)
        return Response(status_code=204)

    def _move(self, pedido: dict[str, Any], situacao: int) -> None:
        pedido["situacao"] = {"id": situacao, "valor": 0}
        self.altered[pedido["id"]] = self.clock()

    # -- NF-e ----------------------------------------------------------------------------------

    async def _nfe(self, request: Request) -> Response:
        with self.state:
            nfe = self.nfes.get(request.path_params["nfe_id"])
            if nfe is None:
                return wire.not_found("Nota fiscal")
            base = str(request.base_url).rstrip("/")
            key = nfe["chaveAcesso"]
            link = f"{base}{XML_PATH}?chaveAcesso={key}&signature={self._signature(key)}"
            return wire.data({**nfe, "xml": link})

    async def _xml(self, request: Request) -> Response:
        """The XML behind the signed link (a client that builds the URL itself is refused)."""
        key = request.query_params.get("chaveAcesso", "")
        xml = self.nfe_xml.get(key)
        if xml is None or request.query_params.get("signature") != self._signature(key):
            return wire.not_found("Nota fiscal")
        return Response(xml, media_type="application/xml")

    def _signature(self, key: str) -> str:
        return hashlib.sha256(f"{self.token_secret}:{key}".encode()).hexdigest()[:32]


def _summary(pedido: dict[str, Any]) -> dict[str, Any]:
    """A list entry of GET /pedidos/vendas (get.interface.ts)."""
    keys = ("id", "numero", "numeroLoja", "data", "dataSaida", "dataPrevista", "totalProdutos")
    return {k: pedido[k] for k in keys} | {
        "total": pedido["total"],
        "contato": pedido["contato"],
        "situacao": pedido["situacao"],
        "loja": pedido["loja"],
    }


#: the period filters of GET /pedidos/vendas this emulator applies, `<name>Inicial` /
#: `<name>Final`, and the forms each takes. Bling's own OpenAPI document for v3 (the
#: reference behind developer.bling.com.br/referencia; public copy in
#: tempont/bling-erp-api-python, specs/bling-openapi-reference.json, `/pedidos/vendas` GET)
#: declares `dataInicial`/`dataFinal` `format: date`, example "2022-01-01", and
#: `dataAlteracaoInicial`/`dataAlteracaoFinal` `format: datetime`, examples "2022-01-01
#: 10:00:00" and "2022-01-15 11:00:00" (a local time, no offset). A day alone is also taken
#: for the alteration filters (the changelog v306 example gives days; the whole day is meant)
#: [U]; a time on a date filter, an ISO "T" or an offset is a 400.
PERIOD_FILTERS: dict[str, tuple[str, ...]] = {
    "data": ("date",),
    "dataAlteracao": ("datetime", "date"),
}


def _periods(query: Any) -> tuple[dict[str, tuple[datetime, datetime]], Response | None]:
    """The asked periods as local-time bounds, or the 400 Bling answers: a value not in a form
    its filter takes (PERIOD_FILTERS), or a period over one year (changelog v306)."""
    periods: dict[str, tuple[datetime, datetime]] = {}
    for name, forms in PERIOD_FILTERS.items():
        low = _moment(query.get(name + "Inicial"), forms, end=False)
        high = _moment(query.get(name + "Final"), forms, end=True)
        for end, bound in (("Inicial", low), ("Final", high)):
            if bound is False:
                return {}, wire.validation(
                    "Parâmetros inválidos", wire.field(name + end, "Data inválida")
                )
        if low is None and high is None:
            continue
        first = low if isinstance(low, datetime) else datetime.min.replace(tzinfo=BRAZIL)
        last = high if isinstance(high, datetime) else datetime.max.replace(tzinfo=BRAZIL)
        if low is not None and high is not None and (last.date() - first.date()).days > 365:
            return {}, wire.validation(
                "O intervalo do filtro por período não pode ser superior a um ano",
                wire.field(name + "Final", "Intervalo superior a um ano"),
            )
        periods[name] = (first, last)
    return periods, None


def _moment(value: str | None, forms: tuple[str, ...], *, end: bool) -> datetime | bool | None:
    """A filter's value as a local time (a day: its first or last second); None when absent,
    False when malformed or in a form the filter does not take ("date": "2024-01-01",
    "datetime": "2024-01-01 10:00:00")."""
    if value is None:
        return None
    try:
        if len(value) == 10 and "date" in forms:
            day = date.fromisoformat(value)
            if day.isoformat() != value:  # "2024-W01-1" is ISO too, not Bling's
                return False
            clock = time(23, 59, 59) if end else time()
            return datetime.combine(day, clock, BRAZIL)
        if len(value) == 19 and value[10] == " " and "datetime" in forms:
            return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BRAZIL)
    except ValueError:
        return False
    return False


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value.strip()).decode().partition(":")
    except ValueError:
        return None
    return user, password


def _digits(value: Any) -> str:
    return "".join(ch for ch in str(value or "") if ch.isdigit())


def _nfe_item(item: dict[str, Any]) -> tuple[str, str, int, str]:
    return (
        item["codigo"],
        item["descricao"] or item["codigo"],
        int(item["quantidade"]),
        _money(item["valor"]),
    )


def _money(value: Any) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def _access_key(xml: bytes) -> str:
    text = xml.decode()
    start = text.index('Id="NFe') + len('Id="NFe')
    return text[start : start + 44]


def _intermediador_problems(intermediador: Any) -> list[dict[str, Any]]:
    """An order's marketplace for its NF-e (`infIntermed`): a valid CNPJ and the seller's
    user name there (the NF-e requires both: `CNPJ` and `idCadIntTran`, 60 characters)."""
    if not isinstance(intermediador, dict):
        return [wire.field("intermediador", "Intermediador inválido")]
    problems = []
    try:
        documents.cnpj(str(intermediador.get("cnpj") or ""))
    except ValueError:
        problems.append(wire.field("intermediador.cnpj", "CNPJ do intermediador inválido"))
    name = intermediador.get("nomeUsuario")
    if not isinstance(name, str) or not name.strip() or len(name) > 60:
        problems.append(
            wire.field("intermediador.nomeUsuario", "Informe o nome do usuário no intermediador")
        )
    return problems

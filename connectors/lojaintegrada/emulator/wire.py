"""Loja Integrada's wire shapes, written from the API docs (not from the connector).

Refs: the "API Loja Integrada" v2 OpenAPI (server https://api.awsli.com.br) as transcribed
by public notes — the examples of GET /v1/pedido/{pedido_id}, GET /v1/pedido/search,
GET /v1/situacao, GET /v1/produto/{produto_id}, GET/PUT /v1/produto_estoque/{produto_id};
the throttling section (429 with errors 533/633/133); Tastypie's list envelope
`{"meta": {limit, next, offset, previous, total_count}, "objects": [...]}`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.responses import JSONResponse

#: the store's clock: the API's times have no offset and are Brasília local time
STORE_ZONE = ZoneInfo("America/Sao_Paulo")
#: `limit` of /v1/pedido/search is at most 50 (the current spec; the deprecated one said 100);
#: Tastypie serves at most its max_limit whatever is asked, and says so in `meta.limit`
MAX_LIMIT = 50
#: Tastypie's default page size (the examples' `meta.limit: 20`)
DEFAULT_LIMIT = 20
#: "100 requisições por minuto por loja", HTTP 429 with error 633
STORE_LIMIT_PER_MINUTE = 100
STORE_LIMIT_ERROR = 633

#: (id, codigo, nome, aprovado, cancelado, final, notificar_comprador, padrao): the 15 rows of
#: the spec's GET /v1/situacao example and the 16th code of the tag's prose (1020, whose id
#: and flags only public clients carry)
SITUACOES: tuple[tuple[int, str, str, bool, bool, bool, bool, bool], ...] = (
    (9, "pedido_efetuado", "Pedido Efetuado", False, False, False, False, True),
    (2, "aguardando_pagamento", "Aguardando pagamento", False, False, False, True, False),
    (3, "pagamento_em_analise", "Pagamento em análise", False, False, False, True, False),
    (4, "pedido_pago", "Pedido Pago", True, False, False, True, False),
    (6, "pagamento_em_disputa", "Pagamento em disputa", True, False, False, False, False),
    (16, "pedido_chargeback", "Pagamento em chargeback", True, False, True, False, False),
    (7, "pagamento_devolvido", "Pagamento devolvido", False, True, True, True, False),
    (8, "pedido_cancelado", "Pedido Cancelado", False, True, True, True, False),
    (1019, "cancelamento_solicitado", "Cancelamento solicitado", False, True, False, False, False),
    (1018, "faturado", "Faturado", True, False, False, False, False),
    (17, "em_producao", "Em produção", True, False, False, True, False),
    (15, "pedido_em_separacao", "Pedido em separação", True, False, False, True, False),
    (11, "pedido_enviado", "Pedido Enviado", True, False, True, True, False),
    (13, "pronto_para_retirada", "Pedido pronto para retirada", True, False, True, True, False),
    (14, "pedido_entregue", "Pedido Entregue", True, False, True, True, False),
    (1020, "pagamento_devolvido_sem_retorno", "Pagamento devolvido sem retorno", True, False,
     True, True, False),
)  # fmt: skip

SEARCH_FILTERS = frozenset(
    {"since_numero", "since_atualizado", "since_criado", "until_criado", "situacao_id"}
    | {"pagamento_id", "cliente_id", "limit", "offset", "format"}
)


def situacao(row: tuple[int, str, str, bool, bool, bool, bool, bool]) -> dict[str, Any]:
    sid, codigo, nome, aprovado, cancelado, final, notificar, padrao = row
    return {
        "aprovado": aprovado,
        "cancelado": cancelado,
        "codigo": codigo,
        "final": final,
        "id": sid,
        "nome": nome,
        "notificar_comprador": notificar,
        "padrao": padrao,
        "resource_uri": f"/api/v1/situacao/{sid}",
    }


def local(moment: datetime) -> str:
    """A time as GET answers carry it: local, no offset, microseconds
    ("2022-10-31T12:28:05.704751")."""
    return moment.astimezone(STORE_ZONE).replace(tzinfo=None).isoformat(timespec="microseconds")


def parse_local(value: str) -> datetime:
    """A filter value (`since_atualizado=2022-12-25T00:00:01`, or a bare date): local time."""
    text = value.strip()
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=STORE_ZONE)
    return moment.astimezone(UTC)


def page(
    path: str, params: dict[str, str], objects: list[dict[str, Any]], *, offset: int, limit: int,
    total: int,
) -> dict[str, Any]:  # fmt: skip
    """Tastypie's envelope; `next`/`previous` keep every filter, under /api/v1 as the API's
    own URIs are written."""

    def link(at: int) -> str:
        query = {**params, "limit": str(limit), "offset": str(at)}
        return f"/api{path}?{urlencode(query)}"

    return {
        "meta": {
            "limit": limit,
            "next": link(offset + limit) if offset + limit < total else None,
            "offset": offset,
            "previous": link(max(0, offset - limit)) if offset > 0 else None,
            "total_count": total,
        },
        "objects": objects,
    }


def error(status: int, message: str, code: int | None = None) -> JSONResponse:
    """An error body. Its exact shape is not in the spec we could read [U]; public clients
    read `error_message`, so that is what the emulator sends (with the throttling code)."""
    body: dict[str, Any] = {"error_message": message}
    if code is not None:
        body["code"] = code
    return JSONResponse(body, status_code=status)


def summary(order: dict[str, Any]) -> dict[str, Any]:
    """A /v1/pedido/search result: the order's head, `cliente` as a URI, no lines."""
    keys = (
        "data_criacao", "data_expiracao", "data_modificacao", "id_anymarket", "id_externo",
        "numero", "peso_real", "resource_uri", "situacao", "utm_campaign", "valor_desconto",
        "valor_envio", "valor_subtotal", "valor_total",
    )  # fmt: skip
    head = {k: order.get(k) for k in keys}
    head["cliente"] = order["cliente"]["resource_uri"]
    return head

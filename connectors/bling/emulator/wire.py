"""Bling API v3's wire shapes, written from its documentation (not from the connector).

Refs: developer.bling.com.br (bling-api, autenticacao, aplicativos, limites, referencia) and the
SDK generated from its reference (AlexandreBellas/bling-erp-api-js: entities pedidosVendas,
contatos, produtos, estoques, nfes, situacoesModulos, @shared/interfaces/error.interface.ts);
numbers marked [R]/[U] in /work/shared/apis/stores-hubs-erps.md §7 are said so below.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

#: access tokens last 6 hours (`expires_in: 21600`, MatheusBruno/Bling-Api-V3 README; the
#: token answer's own field)
ACCESS_TTL_SECONDS = 21600
#: the refresh token's lifetime is not published [U]; 30 days here
REFRESH_TTL_DAYS = 30
#: 3 requests per second per account, and a daily quota [R: ecomplus cites the `limites` page;
#: 120,000 is the number integrators quote, U]
PER_SECOND = 3
PER_DAY = 120_000
#: `limite` ceiling of list endpoints [U: the FAQ "Quantos registros são retornados por página"]
MAX_PAGE = 100
DEFAULT_PAGE = 100
#: NF-e situações with fiscal value (5 Autorizada, 6 Emitida DANFE, 7 Registrada)
NFE_AUTORIZADA = 5


def error(
    status: int,
    kind: str,
    message: str,
    description: str | None = None,
    fields: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    """`{"error": {"type", "message", "description", "fields"}}` (error.interface.ts)."""
    body: dict[str, Any] = {
        "type": kind,
        "message": message,
        "description": description or message,
    }
    if fields:
        body["fields"] = fields
    return JSONResponse({"error": body}, status_code=status)


def field(element: str, msg: str, code: int = 4, namespace: str = "VENDAS") -> dict[str, Any]:
    return {"code": code, "msg": msg, "element": element, "namespace": namespace, "collection": []}


def validation(description: str, *fields: dict[str, Any]) -> JSONResponse:
    return error(400, "VALIDATION_ERROR", description, description, list(fields))


def not_found(what: str) -> JSONResponse:
    return error(404, "RESOURCE_NOT_FOUND", f"{what} não encontrado", f"{what} não encontrado")


def unauthorized() -> JSONResponse:
    # OAuth errors carry error.type = "invalid_token" [R]
    return error(401, "invalid_token", "invalid_token", "The access token provided is invalid")


def too_many(daily: bool) -> JSONResponse:
    # error.type TOO_MANY_REQUESTS; the daily one's description speaks of the day [R: ecomplus]
    if daily:
        return error(
            429,
            "TOO_MANY_REQUESTS",
            "Limite de requisições atingido",
            "O limite de requisições diárias foi atingido, tente novamente amanhã",
        )
    return error(
        429,
        "TOO_MANY_REQUESTS",
        "Limite de requisições atingido",
        "Limite de requisições por segundo atingido, tente novamente mais tarde",
    )


def oauth_error(status: int, kind: str, description: str) -> JSONResponse:
    return error(status, kind, kind, description)


def data(value: Any, status: int = 200) -> JSONResponse:
    return JSONResponse({"data": value}, status_code=status)

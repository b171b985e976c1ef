"""The v3 JSON shapes the emulator answers with (TINY_V3_OPENAPI.json schema names)."""

from __future__ import annotations

from typing import Any


def page(items: list[dict[str, Any]], *, limit: int, offset: int, total: int) -> dict[str, Any]:
    """`{"itens": [...], "paginacao": PaginatedResultModel{limit, offset, total}}`."""
    return {"itens": items, "paginacao": {"limit": limit, "offset": offset, "total": total}}


def order_listing(order: dict[str, Any]) -> dict[str, Any]:
    """ListagemPedidoModelResponse."""
    return {
        "id": order["id"],
        "situacao": order["situacao"],
        "numeroPedido": order["numeroPedido"],
        "ecommerce": order.get("ecommerce"),
        "dataCriacao": order["data"],
        "dataPrevista": order.get("dataPrevista"),
        "cliente": {"id": order["cliente"]["id"], "nome": order["cliente"]["nome"]},
        "valor": f"{order['valorTotalPedido']:.2f}",
        "origemPedido": 0,
    }


#: the BaseNotaFiscalModel fields a listed nota carries, besides `id`, `ecommerce`, `origem`
NOTA_LISTING_FIELDS = (
    "situacao",
    "tipo",
    "numero",
    "serie",
    "chaveAcesso",
    "dataEmissao",
    "cliente",
    "valor",
    "valorProdutos",
    "valorFrete",
)


def nota_listing(nota: dict[str, Any]) -> dict[str, Any]:
    """ListagemNotaFiscalModelResponse: BaseNotaFiscalModel plus `id`, `ecommerce` and
    `origem{id, tipo}` (the sale it was issued from)."""
    listed = {k: nota.get(k) for k in NOTA_LISTING_FIELDS}
    return {
        "id": nota["id"],
        **listed,
        "ecommerce": nota.get("ecommerce"),
        "origem": nota.get("origem"),
    }


def error(message: str, *details: tuple[str, str]) -> dict[str, Any]:
    """A 400's ErrorDTO: `mensagem` and `detalhes[{campo, mensagem}]`."""
    return {
        "mensagem": message,
        "detalhes": [{"campo": field, "mensagem": text} for field, text in details],
    }

"""Deterministic data of the emulated Olist ERP account: products (a kit among them),
marketplace e-commerces, buyers."""

from __future__ import annotations

from typing import Any

#: the account's CNPJ (the NF-e issuer)
ACCOUNT_CNPJ = "11222333000181"
#: e-commerces registered in the account: an order keeps `numeroPedidoEcommerce` only for one
#: of these (../shared/apis §6b: "needs a registered channel ecommerce.id")
ECOMMERCES: dict[int, str] = {
    101: "Loja Virtual",
    102: "Mercado Livre",
    103: "Hub da Olist",
}
HUB_ECOMMERCE = 103

#: (id, sku, descricao, saldo, kit components [(sku, qty)])
PRODUCTS: list[tuple[int, str, str, int, list[tuple[str, int]]]] = [
    (3001, "CAM-P", "Camiseta P", 40, []),
    (3002, "CAM-M", "Camiseta M", 25, []),
    (3003, "CAM-G", "Camiseta G", 12, []),
    (3004, "CANECA", "Caneca 300 ml", 60, []),
    (3005, "CAM-P-10", "Camiseta P (pacote)", 8, []),  # a code that starts like CAM-P
    (3006, "KIT-CAFE", "Kit café: 2 canecas", 0, [("CANECA", 2)]),
]

BUYERS: list[dict[str, Any]] = [
    {"nome": "Maria da Silva", "cpfCnpj": "52998224725", "email": "maria@example.com"},
    {"nome": "Comércio Exemplo Ltda", "cpfCnpj": "27373722000148", "email": "compras@ex.com"},
    {"nome": "João Souza", "cpfCnpj": "39053344705", "email": "joao@example.com"},
]


def product_json(row: dict[str, Any]) -> dict[str, Any]:
    """ListagemProdutosResponseModel / ProdutoResponseModel: id, sku, descricao, tipo."""
    return {
        "id": row["id"],
        "sku": row["sku"],
        "descricao": row["descricao"],
        "tipo": "K" if row["kit"] else "S",
        "situacao": "A",
    }

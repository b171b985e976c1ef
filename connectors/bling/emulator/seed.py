"""Deterministic account data for the Bling emulator: products (some whose codes are prefixes
of others, as real catalogues have), depósitos, lojas, formas de pagamento and the sales
module's situações with ids of this account's own (they differ per account in Bling)."""

from __future__ import annotations

import random
from typing import Any

#: (code, name, price): "CAM-AZ" is a prefix of "CAM-AZ-G" and "CANECA-01" of "CANECA-010", so a
#: client that trusts a loose code search picks the wrong product
CATALOGUE: tuple[tuple[str, str, str], ...] = (
    ("CAM-AZ", "Camiseta azul", "59.90"),
    ("CAM-AZ-G", "Camiseta azul G", "64.90"),
    ("CAM-PR", "Camiseta preta", "59.90"),
    ("CANECA-01", "Caneca branca", "29.90"),
    ("CANECA-010", "Caneca branca (caixa com 10)", "259.00"),
    ("BONE-01", "Boné aba curva", "49.90"),
    ("MEIA-3P", "Meia (3 pares)", "24.90"),
    ("MOCHILA-X", "Mochila executiva", "189.90"),
    ("GARRAFA-750", "Garrafa térmica 750 ml", "89.90"),
    ("CHAVEIRO", "Chaveiro", "9.90"),
)
#: the SKUs the other connectors' sandboxes sell (examples/products.csv), so `erpsync sync` on
#: config.example.yaml pushes their orders into this sandbox ("CAM-P" is a prefix of
#: "CAM-PRETO-P": another loose-search trap)
SANDBOX_SKUS = (
    "CAMISETA-P", "CAMISETA-M", "KIT-CANECA-2", "CAM-P", "CAM-M", "CAM-G", "CAM-PRETO-P",
    "CAM-PRETO-M", "CAM-BRANCO-G", "CAN-300", "CAN-350", "GAR-1L", "FONE-BT", "MOC-01",
    "BON-AZ", "BON-PR", "CAMISETA-P-AZUL", "CAMISETA-M-AZUL", "CANECA-AZUL",
    "LUMINARIA/MESA 40cm", "PANO-PRATO-KIT3", "FONE-BT-FBA", "CAMISETA-AZ-M", "CAMISETA-AZ-G",
    "CANECA-300", "CABO-USB-C", "FONE-BT-01", "LIVRO-PY-01", "CAM-AZUL-P", "CAM-AZUL-M",
    "CAM-PRETA-M", "MOC-CINZA",
)  # fmt: skip

#: the sales module ("Vendas") and its situações: the defaults every account has, with
#: `idHerdado` naming the default a custom one derives from [C: SDK situacoesModulos]
SALES_MODULE = {"nome": "Vendas", "descricao": "Pedidos de Venda", "criarSituacoes": True}
OTHER_MODULES = (
    {"nome": "Compras", "descricao": "Pedidos de Compra", "criarSituacoes": True},
    {"nome": "NotasFiscais", "descricao": "Notas Fiscais", "criarSituacoes": False},
)
DEFAULT_SITUACOES = ("Em aberto", "Atendido", "Cancelado", "Em andamento")
CUSTOM_SITUACOES = (("Em separação", "Em andamento"), ("Faturado", "Atendido"))


def products(rng: random.Random) -> list[dict[str, Any]]:
    base = 16_000_000_000 + rng.randrange(1_000_000) * 100
    return [
        {
            "id": base + index,
            "idProdutoPai": 0,
            "nome": name,
            "codigo": code,
            "preco": float(price),
            "precoCusto": round(float(price) * 0.45, 2),
            "tipo": "P",
            "situacao": "A",
            "formato": "S",
            "descricaoCurta": "",
            "imagemURL": "",
        }
        for index, (code, name, price) in enumerate(
            [*CATALOGUE, *((sku, sku, "39.90") for sku in SANDBOX_SKUS)]
        )
    ]


def depositos(rng: random.Random) -> list[dict[str, Any]]:
    base = 14_000_000_000 + rng.randrange(1_000_000) * 10
    return [
        {"id": base, "descricao": "Geral", "situacao": 1, "padrao": True},
        {"id": base + 1, "descricao": "Loja física", "situacao": 1, "padrao": False},
    ]


#: the account's lojas (sales channels as Bling files them) and formas de pagamento: fixed,
#: so config.example.yaml can name them
LOJAS = {204587412: "Mercado Livre", 204587413: "Nuvemshop", 204587414: "Hub da Olist"}
FORMAS_PAGAMENTO = {2094030: "Intermediador de pagamento", 2094031: "Pix"}


def situacoes(rng: random.Random) -> tuple[int, list[dict[str, Any]]]:
    """The sales module's id and situações: ids this account happens to have."""
    module = 98_000 + rng.randrange(900)
    first = 20 + rng.randrange(400)
    found: list[dict[str, Any]] = []
    for index, name in enumerate(DEFAULT_SITUACOES):
        found.append({"id": first + index * 3, "nome": name, "idHerdado": 0, "cor": "#E9DC40"})
    ids = {s["nome"]: s["id"] for s in found}
    for offset, (name, parent) in enumerate(CUSTOM_SITUACOES):
        found.append(
            {"id": first + 50 + offset, "nome": name, "idHerdado": ids[parent], "cor": "#3E8AF6"}
        )
    return module, found


def stock(
    rng: random.Random, product_ids: list[int], deposit_ids: list[int]
) -> dict[tuple[int, int], int]:
    """Physical balance per (product, depósito)."""
    return {
        (p, d): rng.randrange(5, 60) if index == 0 else rng.randrange(0, 8)
        for p in product_ids
        for index, d in enumerate(deposit_ids)
    }

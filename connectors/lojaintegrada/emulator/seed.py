"""Deterministic sandbox data for the Loja Integrada emulator: a catalogue (simple produtos and
one with variations as child produtos) and orders in the API's shapes, with its quirks
(decimal strings for money and quantities, offset-less local times, `numero` as the key)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from erpsync.connectors.lojaintegrada.emulator import wire

#: (produto id, nome, tipo, sku, parent id, price, stock); SKUs are what erpsync links on
CATALOGUE: tuple[tuple[int, str, str, str, int | None, str, int], ...] = (
    (174389010, "Caneca Cerâmica 300 ml", "normal", "CAN-300", None, "39.90", 30),
    (182904918, "Camiseta Básica", "atributo", "CAM", None, "59.90", 0),
    (182904919, "Camiseta Básica P", "atributo_opcao", "CAM-P", 182904918, "59.90", 12),
    (182904920, "Camiseta Básica M", "atributo_opcao", "CAM-M", 182904918, "59.90", 20),
    (182904921, "Camiseta Básica G", "atributo_opcao", "CAM-G", 182904918, "62.50", 7),
    (190000001, "Mochila Urbana", "normal", "MOC-01", None, "249.90", 4),
    (190000002, "Boné Aba Curva", "normal", "BON-AZ", None, "79.00", 5),
)
#: a removed produto: listed with `removido: true`, never a listing
REMOVED = (190000099, "Chaveiro (fora de linha)", "normal", "CHV-OLD", None, "9.90", 0)

CUSTOMERS = (
    ("Maria Silva", "maria@example.com.br", "15991234567", "cpf"),
    ("João Souza", "joao@example.com.br", "11987654321", "cpf"),
    ("Loja Parceira Ltda", "compras@parceira.example", "1130000000", "cnpj"),
)
ADDRESSES = (
    ("Rua Doutor Azevedo Sampaio", "50", None, "Centro", "Sorocaba", "SP", "18010220"),
    ("Avenida Afonso Pena", "1500", "Sala 3", "Centro", "Belo Horizonte", "MG", "30130005"),
    ("Rua XV de Novembro", "700", None, "Centro", "Curitiba", "PR", "80020310"),
)
FREIGHT = ("0.00", "15.90", "21.38")


def cpf(rng: random.Random) -> str:
    digits = [rng.randint(0, 9) for _ in range(9)]
    for size in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(size + 1, 1, -1), strict=True))
        digits.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, digits))


def cnpj(rng: random.Random) -> str:
    digits = [rng.randint(0, 9) for _ in range(8)] + [0, 0, 0, 1]
    for weights in ((5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2), (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return "".join(map(str, digits))


def produto(row: tuple[int, str, str, str, int | None, str, int], now: datetime) -> dict[str, Any]:
    pid, nome, tipo, sku, parent, price, stock = row
    return {
        "id": pid,
        "id_externo": None,
        "sku": sku,
        "nome": nome,
        "tipo": tipo,
        "pai": f"/api/v1/produto/{parent}" if parent else None,
        "ativo": True,
        "removido": False,
        "bloqueado": False,
        "peso": "0.450",
        "preco_cheio": price,
        "estoque_gerenciado": True,
        "estoque_quantidade": stock,
        "estoque_situacao_em_estoque": 0,
        "estoque_situacao_sem_estoque": -1,
        "data_criacao": wire.local(now),
        "data_modificacao": wire.local(now),
        "resource_uri": f"/api/v1/produto/{pid}",
    }


def stock_row(pid: int, quantity: int) -> dict[str, Any]:
    """GET /v1/produto_estoque/{produto_id}: `id` is the stock row's own id, not the produto's."""
    return {
        "gerenciado": True,
        "id": pid - 64_511_801,
        "produto": f"/api/v1/produto/{pid}",
        "quantidade": quantity,
        "quantidade_disponivel": quantity,
        "quantidade_reservada": 0,
        "resource_uri": f"/api/v1/produto_estoque/{pid}",
        "situacao_em_estoque": 0,
        "situacao_sem_estoque": -1,
    }


def build_order(
    rng: random.Random,
    products: dict[int, dict[str, Any]],
    *,
    numero: int,
    situacao: dict[str, Any],
    modified: datetime,
) -> dict[str, Any]:
    """One order as GET /v1/pedido/{numero} answers it (every third with a coupon, every
    other with "1.000" quantities, as the reports show both spellings)."""
    sellable = [p for p in products.values() if p["tipo"] != "atributo" and not p["removido"]]
    lines = []
    for linha, item in enumerate(rng.sample(sellable, k=rng.randint(1, 3)), start=1):
        count = rng.randint(1, 3)
        price = Decimal(item["preco_cheio"])
        lines.append(
            {
                "altura": 2, "disponibilidade": 0, "id": numero * 1000 + linha, "largura": 12,
                "linha": linha, "nome": item["nome"], "pedido": f"/api/v1/pedido/{numero}",
                "peso": "0.450", "preco_cheio": f"{price:.2f}", "preco_custo": None,
                "preco_promocional": None, "preco_subtotal": f"{price * count:.2f}",
                "preco_venda": f"{price:.2f}",
                "produto": {"id_externo": None, "resource_uri": item["resource_uri"]},
                "produto_pai": item["pai"], "profundidade": 6,
                "quantidade": f"{count}.000" if numero % 2 else f"{count}.00",
                "sku": item["sku"], "tipo": item["tipo"],
            }
        )  # fmt: skip
    subtotal = sum(Decimal(line["preco_subtotal"]) for line in lines)
    coupon = Decimal("10.00") if numero % 3 == 0 else Decimal("0.00")
    freight = Decimal(FREIGHT[numero % len(FREIGHT)])
    total = subtotal + freight - coupon
    name, email, phone, kind = CUSTOMERS[numero % len(CUSTOMERS)]
    document = cpf(rng) if kind == "cpf" else cnpj(rng)
    street, number, complement, district, city, state, zipcode = ADDRESSES[numero % len(ADDRESSES)]
    created = modified - timedelta(minutes=rng.randint(5, 24 * 60))
    cliente_id = 34220641 + numero % len(CUSTOMERS)
    return {
        "cliente": {
            "cnpj": document if kind == "cnpj" else None,
            "cpf": document if kind == "cpf" else None,
            "data_nascimento": None, "email": email, "id": cliente_id,
            "nome": name, "razao_social": name if kind == "cnpj" else None,
            "resource_uri": f"/api/v1/cliente/{cliente_id}", "sexo": "",
            "telefone_celular": phone, "telefone_principal": None,
        },
        "cliente_obs": None,
        # the coupon's shape is not in the examples we read [U]: its code and value
        "cupom_desconto": {"codigo": "BEMVINDO10", "tipo": "fixo", "valor": "10.00"}
        if coupon else None,
        "data_criacao": wire.local(created),
        "data_expiracao": wire.local(created + timedelta(days=6)),
        "data_modificacao": wire.local(modified),
        "endereco_entrega": {
            "bairro": district, "cep": zipcode, "cidade": city,
            "cnpj": document if kind == "cnpj" else None, "complemento": complement,
            "cpf": document if kind == "cpf" else None, "endereco": street, "estado": state,
            "id": 5000 + numero, "ie": None, "nome": name, "numero": number, "pais": "Brasil",
            "razao_social": name if kind == "cnpj" else None, "referencia": None, "rg": None,
            "tipo": "PJ" if kind == "cnpj" else "PF",
        },
        "envios": [
            {
                "data_criacao": wire.local(created), "data_modificacao": wire.local(created),
                "forma_envio": {"code": "PAC", "id": 141909, "nome": "Enviali", "tipo": "PAC "},
                "id": 69291000 + numero, "objeto": None, "prazo": 7, "valor": f"{freight:.2f}",
            }
        ],
        "id_anymarket": None,
        "id_externo": None,
        "itens": lines,
        "numero": numero,
        "pagamentos": [
            {
                "forma_pagamento": {"codigo": "pagsegurov2", "id": 24, "nome": "PagSeguro"},
                "id": 69291100 + numero, "pagamento_tipo": "creditCard",
                "parcelamento": {"numero_parcelas": 1, "valor_parcela": float(total)},
                "valor": f"{total:.2f}", "valor_pago": f"{total:.2f}",
            }
        ],
        "peso_real": "0.450",
        "resource_uri": f"/api/v1/pedido/{numero}",
        "situacao": situacao,
        "utm_campaign": None,
        "valor_desconto": f"{coupon:.2f}",
        "valor_envio": f"{freight:.2f}",
        "valor_subtotal": f"{subtotal:.2f}",
        "valor_total": f"{total:.2f}",
    }  # fmt: skip

"""Olist ERP (Tiny v3) invoices: `GET /notas/{idNota}` plus `GET /notas/{idNota}/xml` as an
Invoice of the channel order it was issued for. Pure.

Only authorised NF-e are taken: `situacao` 6 Autorizada and 7 Emitida DANFE (the v3 enum:
1 Pendente, 2 Emitida, 3 Cancelada, 4 Enviada Aguardando Recibo, 5 Rejeitada, 6 Autorizada,
7 Emitida Danfe, 8 Registrada, 9 Enviada Aguardando Protocolo, 10 Denegada). The XML
(`xmlNfe`) is the document the engine reads its facts from; the summary fields fill the
Invoice the contract asks for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from erpsync.connector import ErpOrderRef
from erpsync.connectors.tiny.orders import _digits, _local_datetime
from erpsync.domain import Invoice, InvoiceModel, to_money

AUTHORISED = frozenset({6, 7})
#: cancelled (3) and denied (10): never authorised; the other situações may still become so
FINAL = frozenset({3, 10})


def authorised(nota: Mapping[str, Any]) -> bool:
    try:
        return int(nota.get("situacao") or 0) in AUTHORISED
    except (TypeError, ValueError):
        return False


def final(nota: Mapping[str, Any]) -> bool:
    """Whether a nota not authorised never will be (cancelled or denied)."""
    try:
        return int(nota.get("situacao") or 0) in FINAL
    except (TypeError, ValueError):
        return False


def invoice_from_nota(
    nota: Mapping[str, Any], xml: str, ref: ErpOrderRef, *, issuer_document: str
) -> Invoice:
    key = _digits(nota.get("chaveAcesso")) or ""
    cliente = nota.get("cliente") or {}
    return Invoice(
        access_key=key,
        model=InvoiceModel(key[20:22]) if len(key) == 44 else InvoiceModel.NFE,
        number=int(nota["numero"]),
        series=int(nota.get("serie") or 0),
        issued_at=_local_datetime(nota["dataEmissao"]),
        issuer_document=issuer_document or key[6:20],
        recipient_document=_digits(cliente.get("cpfCnpj")),
        total=to_money(nota.get("valor") or 0),
        products_total=to_money(nota.get("valorProdutos") or 0),
        freight=to_money(nota.get("valorFrete") or 0),
        connector=ref.connector,
        order_external_id=ref.external_id,
        order_refs=(ref.number,),
        xml=xml.encode("utf-8"),
    )

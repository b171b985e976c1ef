"""Bling NF-e (`GET /nfe/{id}`) as erpsync Invoices: pure.

ref: developer.bling.com.br/referencia#/Notas%20Fiscais%20Eletr%C3%B4nicas (GET /nfe/{idNotaFiscal}:
`numero`, `serie`, `chaveAcesso`, `situacao`, `dataEmissao`, `xml` (a link to the XML),
`linkDanfe`; situação 1 Pendente, 2 Cancelada, 3 Aguardando recibo, 4 Rejeitada, 5 Autorizada,
6 Emitida DANFE, 7 Registrada, 8 Aguardando protocolo, 9 Denegada, 10 Consulta situação,
11 Bloqueada), as the SDK carries it (AlexandreBellas/bling-erp-api-js
`src/entities/nfes/types/situacao.type.ts`). The order points at its NF-e by `notaFiscal.id`.
"""

from __future__ import annotations

from typing import Any

from erpsync.connector import ErpOrderRef
from erpsync.domain import Invoice
from erpsync.postsale.nfe import parse_nfe

#: authorised (5), authorised with its DANFE printed (6), registered (7): an NF-e with
#: fiscal value; the others are pending, refused, cancelled or denied
AUTHORISED = frozenset({5, 6, 7})
#: cancelled (2) and denied (9): never authorised; the others may still become so
FINAL = frozenset({2, 9})


def nfe_id(pedido: Any) -> int | None:
    """The order's NF-e id (`notaFiscal.id`), None while it has none (absent or 0)."""
    note = pedido.get("notaFiscal") if isinstance(pedido, dict) else None
    value = note.get("id") if isinstance(note, dict) else None
    return value if isinstance(value, int) and value > 0 else None


def authorised(nfe: Any) -> bool:
    return isinstance(nfe, dict) and _int(nfe.get("situacao")) in AUTHORISED


def final(nfe: Any) -> bool:
    """Whether an NF-e not authorised never will be (cancelled or denied)."""
    return isinstance(nfe, dict) and _int(nfe.get("situacao")) in FINAL


def xml_link(nfe: Any) -> str | None:
    link = nfe.get("xml") if isinstance(nfe, dict) else None
    return link if isinstance(link, str) and link.strip() else None


def invoice_from(nfe: dict[str, Any], xml: bytes, ref: ErpOrderRef) -> Invoice:
    """The Invoice the XML is (parsed and checked: key, protocol, signature), for the channel
    order of ``ref``.

    Raises:
        InvoiceRefusedError: the XML is not an authorised NF-e.
        ValueError: the XML's access key is not the one Bling lists for the NF-e.
    """
    parsed = parse_nfe(xml)
    listed = "".join(ch for ch in str(nfe.get("chaveAcesso") or "") if ch.isdigit())
    if listed and listed != parsed.invoice.access_key:
        raise ValueError(
            f"NF-e {nfe.get('numero')}: the XML's access key differs from Bling's chaveAcesso"
        )
    return parsed.invoice.model_copy(
        update={
            "connector": ref.connector,
            "order_external_id": ref.external_id,
            "xml": parsed.xml,
        }
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

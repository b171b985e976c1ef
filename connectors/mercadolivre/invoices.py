"""Mercado Livre's invoice sink: the NF-e goes onto the shipment, which releases the label.

ref: developers.mercadolivre.com.br/pt_br/importar-nota-fiscal (shared API notes §1.6).
``POST /shipments/{id}/invoice_data?siteId=MLB`` takes the raw authorised nfeProc, only while
the shipment is ``ready_to_ship``/``invoice_pending`` and only for the ME2 logistic types
whose label it unlocks. How each answer maps:

- 201: accepted. ``shipment_invoice_already_saved`` / ``duplicated_fiscal_key``: accepted when
  the invoice ML holds for the shipment has our key (a replay after a crash), else refused;
- ``nfe_order_value_divergence``, ``wrong_receiver_cpf``, ``invalid_nfe_cstat`` and other 4xx:
  refused, with ML's code and message (fixed by hand, then ``invoices push --again``);
- ``shipment_already_being_processed``, 429/5xx: sent again next run;
- a shipment not yet ``ready_to_ship`` (still ``pending``/``handling``): sent again next run;
  one past ``invoice_pending`` that holds our key: accepted.
Full is invoiced by ML's own Faturador and never reaches here (the engine skips it). ME1,
custom shipping and Flex take the XML through ``/packs/{id}/fiscal_documents`` (multipart),
which this sink does not send yet: those are refused with that reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from erpsync.domain import Invoice, SendResult
from erpsync.errors import FatalError, RetriableError

INVOICE_GATED = frozenset({"drop_off", "xd_drop_off", "xd_same_day", "cross_docking"})
#: ML's codes for "this shipment already holds an invoice / this key is already in use"
ALREADY = ("shipment_invoice_already_saved", "duplicated_fiscal_key")
#: ML is busy with the shipment: try again later
BUSY = ("shipment_already_being_processed",)

Get = Callable[[str], dict[str, Any] | None]
Post = Callable[[str, bytes], dict[str, Any]]


def push_invoice(invoice: Invoice, site: str, get: Get, post: Post) -> SendResult:
    """Send one invoice; ``get``/``post`` are the connector's requests (errors classified)."""
    key = invoice.access_key
    if invoice.model.value != "55" or invoice.environment != 1:
        return _refused(key, "Mercado Livre takes production NF-e modelo 55 only")
    if invoice.xml is None or not invoice.shipment_ref:
        return _refused(key, "the order has no Mercado Livre shipment to attach the NF-e to")
    path = f"/shipments/{invoice.shipment_ref}"
    shipment = get(path)
    if shipment is None:
        return _refused(key, f"shipment {invoice.shipment_ref} not found")
    logistic = (shipment.get("logistic") or {}).get("type") or shipment.get("logistic_type")
    if logistic not in INVOICE_GATED:
        return _refused(
            key,
            f"logistic type {logistic}: the NF-e goes through /packs/{{id}}/fiscal_documents, "
            "which erpsync does not send yet (upload it in the seller panel)",
        )
    status, substatus = shipment.get("status"), shipment.get("substatus")
    if (status, substatus) != ("ready_to_ship", "invoice_pending"):
        if _holds(get, path, key):
            return SendResult(ref=key, ok=True)
        if status in ("pending", "handling") or (status, substatus) == ("ready_to_ship", None):
            return _later(key, f"shipment is {status}/{substatus}: not ready for the NF-e yet")
        return _refused(key, f"shipment is {status}/{substatus}: it no longer takes an NF-e")
    try:
        saved = post(f"{path}/invoice_data?siteId={site}", invoice.xml)
    except RetriableError as exc:
        return _later(key, _line(exc))
    except FatalError as exc:
        text = _line(exc)
        if any(code in text for code in ALREADY):
            if _holds(get, path, key):
                return SendResult(ref=key, ok=True)
            return _refused(key, f"the shipment holds another NF-e: {text}")
        if any(code in text for code in BUSY):
            return _later(key, text)
        return _refused(key, text)
    return SendResult(ref=key, ok=True, remote_id=str(saved.get("id") or "") or None)


def _holds(get: Get, path: str, key: str) -> bool:
    """Whether ML already keeps this NF-e for the shipment (GET .../invoice_data)."""
    saved = get(f"{path}/invoice_data")
    return saved is not None and str(saved.get("fiscal_key")) == key


def _line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _refused(key: str, error: str) -> SendResult:
    return SendResult(ref=key, ok=False, error=error)


def _later(key: str, error: str) -> SendResult:
    return SendResult(ref=key, ok=False, retry=True, error=error)

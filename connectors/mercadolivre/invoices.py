"""Mercado Livre's invoice sink: the NF-e goes onto the shipment (ME2) or the pack (ME1).

ME2 (ref: developers.mercadolivre.com.br/pt_br/importar-nota-fiscal, shared API notes §1.6):
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
Full is invoiced by ML's own Faturador and never reaches here (the engine skips it).

ME1, custom shipping and Flex (every other logistic type): the NF-e is *attached* to the pack
(ref: developers.mercadolivre.com.br/anexar-nota-fiscal, updated 2026-04-07, and
/carregar-nf "Envio de Notas Fiscais para Flex, ME1 e Drop_off"): ``POST
/packs/{pack_id}/fiscal_documents``, multipart, the file in the field ``fiscal_document``
(``application/xml``, at most 1 MB). An order outside a cart has no pack: its own id is the
pack id, still under ``/packs`` (ref: the same pages, "se o pack_id for null, use o order id").
It does not change the shipment nor release a label: it hands the document to the buyer.
One NF-e covers the whole pack (a cart's orders share it), so it goes once per pack: before
uploading, erpsync reads what the pack already holds (``GET /packs/{id}/fiscal_documents`` and
each document's content, ``GET /packs/{id}/fiscal_documents/{file_id}`` [R: integrator code,
the public pages name the calls but show no listing]) and takes an NF-e whose key is already
there as accepted. ML keeps one fiscal document of each kind (XML, PDF) per pack (ref:
developers.mercadolibre.com.ar/en_us/upload-invoices, "only one fiscal_document per pack"):
another NF-e for a pack that holds one is refused with ML's message. The error codes of
these calls are not published [U]: a refusal is read back (does the pack hold our key?)
rather than matched by code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from erpsync.domain import Invoice, SendResult
from erpsync.errors import FatalError, RetriableError

INVOICE_GATED = frozenset({"drop_off", "xd_drop_off", "xd_same_day", "cross_docking"})
#: ML's codes for "this shipment already holds an invoice / this key is already in use"
ALREADY = ("shipment_invoice_already_saved", "duplicated_fiscal_key")
#: ML is busy with the shipment: try again later
BUSY = ("shipment_already_being_processed",)

#: ML's limit for a file attached to a pack (ref: anexar-nota-fiscal: "no máximo 1 MB")
PACK_FILE_LIMIT = 1024 * 1024

Get = Callable[[str], dict[str, Any] | None]
Post = Callable[[str, bytes], dict[str, Any]]
#: the pack's documents (GET /packs/{id}/fiscal_documents): [(file id, content)]
PackDocuments = Callable[[str], list[tuple[str, bytes]]]
#: upload one file to the pack; returns the ids ML gave it
Upload = Callable[[str, str, bytes], list[str]]


@dataclass(frozen=True)
class Pack:
    """The connector's pack calls: what the pack holds, and the upload."""

    documents: PackDocuments
    upload: Upload


def push_invoice(
    invoice: Invoice, site: str, get: Get, post: Post, pack: Pack | None = None
) -> SendResult:
    """Send one invoice; ``get``/``post``/``pack`` are the connector's requests (errors
    classified)."""
    key = invoice.access_key
    if invoice.model.value != "55" or invoice.environment != 1:
        return _refused(key, "Mercado Livre takes production NF-e modelo 55 only")
    if invoice.xml is None:
        return _refused(key, "the invoice has no XML to send")
    if not invoice.shipment_ref:
        # "not_specified" shipping (buyer and seller agree on delivery) has no shipment at all
        # (ref: developers.mercadolivre.com.br/envios-personalizados): the pack is all there is
        return _to_pack(invoice, invoice.xml, get, pack)
    path = f"/shipments/{invoice.shipment_ref}"
    shipment = get(path)
    if shipment is None:
        return _refused(key, f"shipment {invoice.shipment_ref} not found")
    logistic = (shipment.get("logistic") or {}).get("type") or shipment.get("logistic_type")
    if logistic == "fulfillment":
        return _refused(key, "Full: Mercado Livre issues the NF-e itself (Faturador)")
    if logistic not in INVOICE_GATED:
        return _to_pack(invoice, invoice.xml, get, pack)
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


def _to_pack(invoice: Invoice, xml: bytes, get: Get, pack: Pack | None) -> SendResult:
    """ME1, custom, Flex, no shipment: the NF-e goes to the order's pack (read from the order)."""
    key = invoice.access_key
    if pack is None:
        return _refused(key, "no pack to attach the NF-e to")
    try:
        order = get(f"/orders/{invoice.order_external_id}")
    except RetriableError as exc:
        return _later(key, _line(exc))
    if order is None:
        return _refused(key, f"order {invoice.order_external_id} not found on Mercado Livre")
    return push_to_pack(key, xml, pack_id_of(order), pack)


def pack_id_of(order: dict[str, Any]) -> str:
    """The order's pack, or the order itself when it has none (ML: keep /packs, use the id)."""
    return str(order.get("pack_id") or order["id"])


def push_to_pack(key: str, xml: bytes, pack_id: str, pack: Pack) -> SendResult:
    """Attach the NF-e to the pack once: a pack already holding it (a replay, or the NF-e of
    another order of the same cart) is accepted without a second upload."""
    if len(xml) > PACK_FILE_LIMIT:
        return _refused(key, f"the XML is {len(xml)} bytes: Mercado Livre takes at most 1 MB")
    try:
        held = _held(pack, pack_id, key)
        if held is not None:
            return SendResult(ref=key, ok=True, remote_id=f"pack {pack_id}: {held}")
        ids = pack.upload(pack_id, f"NFe{key}.xml", xml)
    except RetriableError as exc:
        return _later(key, _line(exc))
    except FatalError as exc:
        text = _line(exc)
        try:
            held = _held(pack, pack_id, key)
        except (RetriableError, FatalError):
            held = None
        if held is not None:  # ML kept it although it answered with an error
            return SendResult(ref=key, ok=True, remote_id=f"pack {pack_id}: {held}")
        return _refused(key, f"pack {pack_id}: {text}")
    remote = ids[0] if ids else "?"
    return SendResult(ref=key, ok=True, remote_id=f"pack {pack_id}: {remote}")


def _held(pack: Pack, pack_id: str, key: str) -> str | None:
    """The id of the pack's document that carries this access key, if any."""
    for file_id, content in pack.documents(pack_id):
        # an XML that names the key; a PDF (a DANFE) is not the NF-e ML asks for
        if content.lstrip().startswith(b"<") and key.encode() in content:
            return file_id
    return None


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

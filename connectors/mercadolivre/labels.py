"""Mercado Livre shipping labels: which shipments have one, and reading what ML sends.

ref: developers.mercadolivre.com.br/pt_br/gerenciamento-de-envios ("Imprimir etiqueta"; the
shared API notes §1.6): ``GET /shipment_labels?shipment_ids=…&response_type=pdf|zpl2``, only
for shipments in ``ready_to_ship`` (``ready_to_print``/``printed``), never Full or Flex. On
ME2 the NF-e releases the label: a shipment still at ``invoice_pending`` waits for
``invoices push``. ML combines several ids into one document, so erpsync asks per shipment
and gets one file per order. ``zpl2`` may come raw or as a ZIP holding a ``.txt`` [R:
integrator code]: both are read.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from typing import Any

#: ME2: ML issues the label once the NF-e is in
ME2 = frozenset({"drop_off", "xd_drop_off", "xd_same_day", "cross_docking"})
#: logistic types ML never issues a label for, and why
NO_LABEL = {
    "fulfillment": "Full: Mercado Livre ships it from its warehouse",
    "self_service": "Flex: delivered by the seller through the Flex app, no label",
    "custom": "ME1: the seller's own carrier issues the label",
    "not_specified": "ME1: the seller's own carrier issues the label",
    "default": "ME1: the seller's own carrier issues the label",
}
#: states after which a label is no longer useful
DONE = frozenset({"shipped", "delivered", "not_delivered", "cancelled"})
RESPONSE_TYPE = {"pdf": "pdf", "zpl": "zpl2"}


def never_reason(logistic_type: str | None) -> str | None:
    """Why ML never issues a label for this logistic type, or None."""
    if logistic_type is None:
        return None
    if logistic_type in NO_LABEL:
        return NO_LABEL[logistic_type]
    if logistic_type not in ME2:
        return f"logistic type {logistic_type} has no Mercado Envios label"
    return None


def state_reason(shipment: Mapping[str, Any]) -> tuple[str, bool] | None:
    """(why there is no label now, whether it is final) for a shipment read from
    ``GET /shipments/{id}``; None when its label can be printed."""
    logistic = (shipment.get("logistic") or {}).get("type") or shipment.get("logistic_type")
    never = never_reason(logistic)
    if never is not None:
        return never, True
    status, substatus = shipment.get("status"), shipment.get("substatus")
    if status in DONE:
        return f"the shipment is {status}: no label to print", True
    if status != "ready_to_ship":
        return f"the shipment is {status}/{substatus}, not ready to ship yet", False
    if substatus == "invoice_pending":
        return "waiting for the NF-e (`erpsync invoices push` sends it)", False
    return None


def label_content(body: bytes, format: str) -> bytes:
    """The label as a file: the PDF, or ZPL text (unzipped when ML sent a ZIP)."""
    if format == "zpl" and body.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            texts = [n for n in names if n.lower().endswith(".txt")] or names
            if not texts:
                raise ValueError("the ZPL archive Mercado Livre sent is empty")
            return b"".join(archive.read(name) for name in sorted(texts))
    return body

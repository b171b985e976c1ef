"""Optional order fields read softly: a bad one becomes an empty field plus a note.

Only what an order cannot exist without (its id, its lines, their quantities) may send it to
the quarantine: a quarantined order books no reservation and no *baixa*. A buyer document that
is not a valid CPF/CNPJ (an RG, a typo), a CEP or a state we cannot read are left empty, with a
note saying why, and the order goes through. A document we cannot use is kept as given (with
its type) in ``Order.extra["buyer_document"]``, so nothing the platform sent is lost. Notes
never carry a document number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from erpsync import documents
from erpsync.domain import Address, Buyer

#: Order.extra key of a buyer document that is not a usable CPF/CNPJ: {"type", "number"}
RAW_DOCUMENT = "buyer_document"
#: an address with nothing received: no country either (the domain's default says "BR")
NO_ADDRESS = Address(country=None)

_CPF_CNPJ = {"CPF": documents.cpf, "CNPJ": documents.cnpj}


@dataclass
class Lenient:
    """Collects the notes and the kept raw values while one order is mapped."""

    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def document(self, number: Any, kind: Any = None) -> str | None:
        """The CPF/CNPJ when ``number`` is one (``kind`` as the platform labels it, if it
        does); otherwise None, the raw value kept in extra with its type, and a note."""
        text = _text(number)
        if text is None:
            return None
        label = str(kind).strip().upper() if _text(kind) else None
        check = _CPF_CNPJ.get(label or "", documents.cpf_or_cnpj)
        if label is None or label in _CPF_CNPJ:
            try:
                return check(text)
            except ValueError as exc:  # the message masks the number
                reason = str(exc)
        else:
            reason = f"a {label} is not a CPF or CNPJ"
        self.extra[RAW_DOCUMENT] = {"type": label, "number": text}
        self.notes.append(
            f"buyer document left empty: {reason}; kept as given in extra.{RAW_DOCUMENT}"
        )
        return None

    def cep(self, value: Any, where: str = "shipping address") -> str | None:
        text = _text(value)
        if text is None:
            return None
        try:
            return documents.cep(text)
        except ValueError:
            self.notes.append(f"{where}: CEP {text!r} is not 8 digits; left empty")
            return None

    def uf(self, value: Any, where: str = "shipping address") -> str | None:
        text = _text(value)
        if text is None:
            return None
        try:
            return documents.uf(text)
        except ValueError:
            self.notes.append(f"{where}: state {text!r} is not a Brazilian state; left empty")
            return None

    def buyer(
        self,
        *,
        name: Any = None,
        document: Any = None,
        document_type: Any = None,
        email: Any = None,
        phone: Any = None,
    ) -> Buyer:
        return Buyer(
            name=_text(name),
            document=self.document(document, document_type),
            email=_text(email),
            phone=_text(phone),
        )

    def address(self, where: str = "shipping address", **fields: Any) -> Address:
        """An Address from raw fields; ``state`` and ``zip`` are checked softly. With no field
        at all it is NO_ADDRESS (country empty too)."""
        values = {key: _text(value) for key, value in fields.items()}
        if not any(values.values()):
            return NO_ADDRESS
        values["state"] = self.uf(values.get("state"), where)
        values["zip"] = self.cep(values.get("zip"), where)
        values["country"] = values.get("country") or "BR"
        return Address(**values)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, Mapping):
        return None
    text = str(value).strip()
    return text or None

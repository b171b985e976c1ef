"""Read an NF-e XML (nfeProc, or a bare NFe) with nfelib and check it before it is stored.

The schema is nfelib's (xsdata bindings generated from SEFAZ's XSDs, layout 4.00): nothing is
hand-rolled here except the checks SEFAZ's schema cannot express: the access key's check digit
and its agreement with the fields it is built from, the protocol's status and the signature's
presence. Every failure is one ``InvoiceRefusedError`` line that names no personal document.

The XML is first read by lxml with entities, DTDs and network access off (an XML file from a
folder is untrusted input), then handed to nfelib as a tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import ValidationError

from erpsync import documents
from erpsync.domain import Invoice
from erpsync.errors import InvoiceRefusedError
from erpsync.postsale.domain import AUTHORISED_STATUSES

NFE_NS = "http://www.portalfiscal.inf.br/nfe"
#: a protocol number: cUF-independent 15 digits (1 + cUF + AA + sequence)
_PROTOCOL = re.compile(r"\d{15}")
#: order numbers quoted in infAdic free text: runs of letters/digits/dashes, 5 long or more,
#: that hold a digit ("2000001234", "LU-1234567"); words are not order numbers
_TEXT_REF = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{4,}")


@dataclass(frozen=True)
class ParsedNfe:
    invoice: Invoice
    #: the file as it was read (stored compressed; channels want the XML they were given)
    xml: bytes
    #: True for an nfeProc (NFe + SEFAZ's protNFe), False for a bare NFe
    processed: bool


def parse_nfe(data: bytes, *, protocol: str | None = None) -> ParsedNfe:
    """Parse and check one NF-e XML.

    Args:
        data: the file's bytes.
        protocol: the authorisation protocol number, for a bare ``NFe`` (an ``nfeProc``
            carries its own and must not be given one).

    Raises:
        InvoiceRefusedError: not an NF-e, a wrong or disagreeing access key, a protocol other
            than authorised, no signature.
    """
    root = _read_xml(data)
    name = root.tag.rpartition("}")[2] if root.tag.startswith(f"{{{NFE_NS}}}") else None
    if name not in {"nfeProc", "NFe"}:
        raise InvoiceRefusedError(f"not an NF-e: the root element is {_local(root.tag)!r}")
    if name == "nfeProc" and protocol is not None:
        raise InvoiceRefusedError("--protocol is only for a bare NFe: this nfeProc has its own")
    if name == "NFe" and protocol is None:
        raise InvoiceRefusedError(
            "a bare NFe has no authorisation protocol: attach the nfeProc, or give --protocol"
        )
    document = _bind(root, name)
    nfe = document.NFe if name == "nfeProc" else document
    info = nfe.infNFe
    if _value(info.versao) != "4.00":
        raise InvoiceRefusedError(f"NF-e layout {_value(info.versao)} is not supported (4.00)")
    key = _checked_key(info)
    if nfe.signature is None:
        raise InvoiceRefusedError(f"NF-e {key}: the XML has no Signature element (not signed)")
    if name == "nfeProc":
        status, number, authorised_at = _authorisation(document, key)
    else:
        assert protocol is not None
        if not _PROTOCOL.fullmatch(protocol.strip()):
            raise InvoiceRefusedError(f"--protocol {protocol!r} is not a 15-digit protocol number")
        status, number, authorised_at = None, protocol.strip(), None
    try:
        invoice = _invoice(info, key, status, number, authorised_at)
    except (ValidationError, ValueError) as exc:
        raise InvoiceRefusedError(f"NF-e {key}: {_first_error(exc)}") from None
    return ParsedNfe(invoice=invoice, xml=data, processed=name == "nfeProc")


def _read_xml(data: bytes) -> Any:
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise InvoiceRefusedError(f"not an NF-e: not well-formed XML ({exc.msg})") from None
    if root is None:
        raise InvoiceRefusedError("not an NF-e: the file is empty")
    if root.getroottree().docinfo.doctype:
        raise InvoiceRefusedError("not an NF-e: the XML declares a DOCTYPE")
    return root


def _bind(root: Any, name: str) -> Any:
    from xsdata.exceptions import ParserError
    from xsdata.formats.dataclass.parsers import XmlParser
    from xsdata.formats.dataclass.parsers.config import ParserConfig

    if name == "nfeProc":
        from nfelib.nfe.bindings.v4_0.proc_nfe_v4_00 import NfeProc as Binding
    else:
        from nfelib.nfe.bindings.v4_0.nfe_v4_00 import Nfe as Binding

    config = ParserConfig(fail_on_unknown_properties=True, fail_on_converter_warnings=True)
    try:
        document = XmlParser(config=config).parse(root, Binding)
    except (ParserError, ValueError, TypeError, AttributeError) as exc:
        raise InvoiceRefusedError(f"not a valid NF-e 4.00: {_first_line(exc)}") from None
    nfe = document.NFe if name == "nfeProc" else document
    if nfe is None or nfe.infNFe is None or nfe.infNFe.ide is None:
        raise InvoiceRefusedError("not a valid NF-e 4.00: no infNFe/ide")
    return document


def _checked_key(info: Any) -> str:
    """The access key from infNFe/@Id, its check digit and its parts checked against the XML."""
    raw_id = str(info.Id or "")
    key = raw_id.removeprefix("NFe")
    if not raw_id.startswith("NFe") or len(key) != 44 or not key.isdigit():
        raise InvoiceRefusedError(f"infNFe Id {raw_id!r} is not 'NFe' + a 44-digit access key")
    try:
        documents.nfe_key(key)
    except ValueError as exc:
        raise InvoiceRefusedError(f"access key {key}: {exc}") from None
    ide, emit = info.ide, info.emit
    issued = str(ide.dhEmi or "")
    expected = {
        "cUF": _value(ide.cUF).zfill(2),
        "AAMM": issued[2:4] + issued[5:7],
        "CNPJ/CPF do emitente": (emit.CNPJ or "").zfill(14)
        if emit.CNPJ
        else (emit.CPF or "").zfill(14),
        "modelo": _value(ide.mod),
        "série": _value(ide.serie).zfill(3),
        "número": _value(ide.nNF).zfill(9),
        "tpEmis": _value(ide.tpEmis),
        "cNF": _value(ide.cNF).zfill(8),
        "cDV": _value(ide.cDV),
    }
    parts = [key[0:2], key[2:6], key[6:20], key[20:22], key[22:25], key[25:34], key[34]]
    parts += [key[35:43], key[43]]
    wrong = [
        field for (field, value), part in zip(expected.items(), parts, strict=True) if value != part
    ]
    if wrong:
        raise InvoiceRefusedError(
            f"access key {key} disagrees with the XML's own {', '.join(wrong)}"
        )
    return key


def _authorisation(document: Any, key: str) -> tuple[str, str | None, datetime | None]:
    prot = document.protNFe.infProt if document.protNFe is not None else None
    if prot is None:
        raise InvoiceRefusedError(f"NF-e {key}: the nfeProc has no protNFe/infProt")
    status = _value(prot.cStat)
    reason = " ".join(str(prot.xMotivo or "").split())
    if status not in AUTHORISED_STATUSES:
        raise InvoiceRefusedError(
            f"NF-e {key} is not authorised: cStat {status} ({reason or 'no reason given'})"
        )
    if _value(prot.chNFe) != key:
        raise InvoiceRefusedError(f"NF-e {key}: the protocol is for another key ({prot.chNFe})")
    received = str(prot.dhRecbto) if prot.dhRecbto else None
    return status, _value(prot.nProt) or None, _aware(received) if received else None


def _invoice(
    info: Any, key: str, status: str | None, protocol: str | None, authorised: datetime | None
) -> Invoice:
    ide, totals = info.ide, info.total.ICMSTot
    dest = info.dest
    recipient = None
    if dest is not None:
        recipient = dest.CNPJ or dest.CPF or None
    return Invoice(
        access_key=key,
        model=_value(ide.mod),
        number=int(_value(ide.nNF)),
        series=int(_value(ide.serie)),
        issued_at=_aware(str(ide.dhEmi)),
        authorised_at=authorised,
        issuer_document=info.emit.CNPJ or info.emit.CPF,
        recipient_document=recipient,
        total=totals.vNF,
        products_total=totals.vProd,
        freight=totals.vFrete or "0",
        discount=totals.vDesc or "0",
        protocol=protocol,
        status_code=status,
        environment=int(_value(ide.tpAmb)),
        order_refs=order_refs(info),
    )


def order_refs(info: Any) -> tuple[str, ...]:
    """Channel order numbers the NF-e names: each item's xPed, compra/xPed, then the numbers
    quoted in infAdic/infCpl (ERPs write "Pedido 2000001234" there), in that order."""
    refs: list[str] = []
    for det in info.det or ():
        if det.prod is not None and det.prod.xPed:
            refs.append(str(det.prod.xPed).strip())
    if info.compra is not None and info.compra.xPed:
        refs.append(str(info.compra.xPed).strip())
    text = info.infAdic.infCpl if info.infAdic is not None else None
    if text:
        refs.extend(r for r in _TEXT_REF.findall(str(text)) if any(c.isdigit() for c in r))
    return tuple(dict.fromkeys(r for r in refs if r))


def _aware(text: str) -> datetime:
    """dhEmi/dhRecbto carry their offset (layout 4.00 requires it); refuse one without."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        raise InvoiceRefusedError(f"time {text!r} has no UTC offset")
    return value


def _value(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    return "" if value is None else str(value).strip()


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


def _first_error(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors(include_url=False, include_input=False, include_context=False)[0]
        where = ".".join(str(part) for part in err["loc"])
        return f"{where}: {err['msg']}"
    return _first_line(exc)

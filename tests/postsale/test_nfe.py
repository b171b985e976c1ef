"""Reading NF-e XMLs: what is accepted, what is refused and the one line that says why."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from erpsync.errors import InvoiceRefusedError
from erpsync.postsale.nfe import parse_nfe
from erpsync.postsale.nfe_builder import (
    BUYER_CNPJ,
    BUYER_CPF,
    NfeSpec,
    build_nfe,
    check_digit,
    tampered_key,
)


def test_an_authorised_nfeproc_with_a_cpf_recipient_is_read_exactly():
    parsed = parse_nfe(build_nfe(number=1234, series=2, recipient=BUYER_CPF))
    invoice = parsed.invoice
    assert parsed.processed
    assert invoice.access_key == NfeSpec(number=1234, series=2).key
    assert (invoice.model.value, invoice.number, invoice.series) == ("55", 1234, 2)
    assert invoice.issued_at == datetime(2026, 11, 2, 13, 0, tzinfo=UTC)
    assert invoice.authorised_at == datetime(2026, 11, 2, 13, 0, 5, tzinfo=UTC)
    assert invoice.recipient_document == BUYER_CPF
    assert (invoice.protocol, invoice.status_code, invoice.environment) == (
        "135260000012345",
        "100",
        1,
    )
    assert invoice.total == Decimal("20.00") and invoice.products_total == Decimal("20.00")


def test_a_cnpj_recipient_with_freight_and_discount():
    parsed = parse_nfe(
        build_nfe(
            recipient=BUYER_CNPJ,
            items=[("SKU-A", "Caneca", 3, "33.33"), ("SKU-B", "Camiseta", 1, "59.90")],
            freight="19.90",
            discount="10.01",
        )
    )
    invoice = parsed.invoice
    assert invoice.recipient_document == BUYER_CNPJ
    assert invoice.products_total == Decimal("159.89")
    assert (invoice.freight, invoice.discount) == (Decimal("19.90"), Decimal("10.01"))
    assert invoice.total == Decimal("169.78")


def test_cstat_150_authorised_late_is_accepted():
    assert parse_nfe(build_nfe(c_stat="150")).invoice.status_code == "150"


def test_an_nfce_is_read_as_model_65():
    assert parse_nfe(build_nfe(model="65")).invoice.model.value == "65"


def test_order_numbers_come_from_xped_compra_and_infadic():
    parsed = parse_nfe(
        build_nfe(
            x_ped="2000001234",
            compra_x_ped="PO-77812",
            inf_cpl="Pedido Magalu LU-1234567; Documento emitido por ME",
        )
    )
    assert parsed.invoice.order_refs == ("2000001234", "PO-77812", "LU-1234567")


def _key_with(spec: NfeSpec, **parts: str) -> str:
    """The spec's key with some positions replaced and a correct check digit again."""
    key = spec.key[:43]
    spans = {"numero": (25, 34), "serie": (22, 25), "cnf": (35, 43), "aamm": (2, 6)}
    for name, value in parts.items():
        start, end = spans[name]
        key = key[:start] + value + key[end:]
    return key + check_digit(key)


REFUSALS = [
    pytest.param(
        {"c_stat": "110", "x_motivo": "Uso Denegado"},
        "is not authorised: cStat 110 (Uso Denegado)",
        id="denied-110",
    ),
    pytest.param(
        {"c_stat": "302", "x_motivo": "Uso Denegado: Irregularidade fiscal do destinatario"},
        "is not authorised: cStat 302 (Uso Denegado: Irregularidade fiscal do destinatario)",
        id="denied-302",
    ),
    pytest.param({"signed": False}, "the XML has no Signature element (not signed)", id="unsigned"),
    pytest.param(
        {"key_override": tampered_key(NfeSpec().key)},
        "NF-e key check digit does not match",
        id="tampered-check-digit",
    ),
    pytest.param(
        {"key_override": _key_with(NfeSpec(), numero="000009999")},
        "disagrees with the XML's own número",
        id="key-number",
    ),
    pytest.param(
        {"key_override": _key_with(NfeSpec(), serie="002", cnf="87654321")},
        "disagrees with the XML's own série, cNF",
        id="key-series-cnf",
    ),
    pytest.param(
        {"key_override": _key_with(NfeSpec(), aamm="2610")},
        "disagrees with the XML's own AAMM",
        id="key-month",
    ),
]


@pytest.mark.parametrize(("changes", "message"), REFUSALS)
def test_refusals_name_the_reason_in_one_line(changes, message):
    with pytest.raises(InvoiceRefusedError) as raised:
        parse_nfe(build_nfe(**changes))
    text = str(raised.value)
    assert message in text and "\n" not in text
    assert BUYER_CPF not in text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<foo/>", "not an NF-e: the root element is 'foo'"),
        (b"hello", "not an NF-e: not well-formed XML"),
        (b"", "not an NF-e"),
        (
            b'<cteProc xmlns="http://www.portalfiscal.inf.br/cte"/>',
            "not an NF-e: the root element is 'cteProc'",
        ),
        (
            b'<!DOCTYPE x [<!ENTITY a "aaaa">]><nfeProc xmlns="http://www.portalfiscal.inf.br/nfe"/>',
            "not an NF-e: the XML declares a DOCTYPE",
        ),
        (
            b'<nfeProc xmlns="http://www.portalfiscal.inf.br/nfe"><NFe><bogus/></NFe></nfeProc>',
            "not a valid NF-e 4.00",
        ),
    ],
)
def test_files_that_are_not_nfe(data, message):
    with pytest.raises(InvoiceRefusedError, match="^" + message):
        parse_nfe(data)


def test_a_bare_nfe_needs_a_protocol_and_an_nfeproc_refuses_one():
    bare = build_nfe(processed=False)
    with pytest.raises(InvoiceRefusedError, match="give --protocol"):
        parse_nfe(bare)
    with pytest.raises(InvoiceRefusedError, match="not a 15-digit protocol number"):
        parse_nfe(bare, protocol="123")
    invoice = parse_nfe(bare, protocol="135260000099999").invoice
    assert (invoice.protocol, invoice.status_code, invoice.authorised_at) == (
        "135260000099999",
        None,
        None,
    )
    with pytest.raises(InvoiceRefusedError, match="only for a bare NFe"):
        parse_nfe(build_nfe(), protocol="135260000099999")


def test_the_protocol_must_be_for_this_key():
    spec = NfeSpec()
    xml = build_nfe(spec).replace(
        f"<chNFe>{spec.key}</chNFe>".encode(), f"<chNFe>{'3' * 44}</chNFe>".encode()
    )
    with pytest.raises(InvoiceRefusedError, match="the protocol is for another key"):
        parse_nfe(xml)

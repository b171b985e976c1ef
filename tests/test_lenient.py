"""erpsync.lenient: optional order fields that are bad become empty fields plus notes."""

from __future__ import annotations

import pytest

from erpsync import documents
from erpsync.domain import Address
from erpsync.lenient import NO_ADDRESS, Lenient


@pytest.mark.parametrize(
    ("number", "kind", "document", "kept"),
    [
        ("390.533.447-05", "CPF", "39053344705", None),
        ("390.533.447-05", None, "39053344705", None),
        ("11.222.333/0001-81", "cnpj", "11222333000181", None),
        ("11.222.333/0001-81", "CPF", None, "CPF"),  # labelled CPF, but it is a CNPJ
        ("12.345.678-9", "RG", None, "RG"),
        ("39053344700", "CPF", None, "CPF"),  # bad check digits
        ("", "CPF", None, None),
        (None, "RG", None, None),
    ],
)
def test_document_is_a_valid_cpf_cnpj_or_kept_raw_with_its_type(
    number: str | None, kind: str | None, document: str | None, kept: str | None
) -> None:
    """requirement: only a valid CPF/CNPJ becomes the document; anything else is kept as given
    with its type, and the note never carries the number."""
    soft = Lenient()
    assert soft.document(number, kind) == document
    if kept is None:
        assert soft.extra == {} and soft.notes == []
        return
    assert soft.extra == {"buyer_document": {"type": kept, "number": number}}
    (note,) = soft.notes
    assert note.startswith("buyer document left empty: ")
    assert number and number not in note and number.replace(".", "")[:6] not in note


def test_address_reads_state_names_and_leaves_a_bad_cep_empty() -> None:
    """requirement: a state name becomes its UF; a bad CEP is a note, not an error."""
    soft = Lenient()
    address = soft.address(city="Niterói", state="rio de janeiro", zip="24020-07")
    assert address == Address(city="Niterói", state="RJ", zip=None, country="BR")
    assert soft.notes == ["shipping address: CEP '24020-07' is not 8 digits; left empty"]


def test_nothing_received_is_an_address_without_country() -> None:
    """requirement: an address with nothing received does not claim "BR"."""
    assert Lenient().address(street=None, zip="") == NO_ADDRESS
    assert NO_ADDRESS.country is None


@pytest.mark.parametrize(
    ("name", "uf"),
    [("São Paulo", "SP"), ("SAO PAULO", "SP"), ("Pará", "PA"), ("BR-AM", "AM"), ("mg", "MG")],
)
def test_uf_accepts_codes_iso_codes_and_names(name: str, uf: str) -> None:
    assert documents.uf(name) == uf


@pytest.mark.parametrize(
    ("check", "valid", "invalid"),
    [
        (documents.cpf, "390.533.447-05", "390.533.447-00"),
        (documents.cnpj, "11.222.333/0001-81", "11.222.333/0001-80"),
        (documents.cpf_or_cnpj, "11222333000181", "11222333000180"),
    ],
)
def test_a_document_checked_again_gets_the_same_answer(check, valid, invalid) -> None:
    """requirement: a number checked once (the mapping) and again (the domain model) is
    judged the same both times; an invalid one is refused every time, never remembered as
    valid."""
    assert check(valid) == check(valid) == documents.digits(valid)
    for _ in range(2):
        with pytest.raises(ValueError, match="invalid"):
            check(invalid)

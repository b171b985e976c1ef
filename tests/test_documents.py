"""CPF, CNPJ and GTIN check digits (erpsync.documents) agree with python-stdnum's.

erpsync computes them itself (importing stdnum cost a pull 1.3 MiB of its peak RSS, issue 11
section 2); stdnum, the maintained reference, stays a test dependency so the two cannot drift:
the same numbers are accepted, and the same refusal (format, length, check digit) is given,
with stdnum's message.
"""

from __future__ import annotations

import random
import string

import pytest
from stdnum import ean
from stdnum.br import cnpj, cpf
from stdnum.exceptions import ValidationError as StdnumError

from erpsync import documents


def _outcome(validate, number):
    try:
        return ("ok", validate(number))
    except (StdnumError, documents.ValidationError) as exc:
        return (type(exc).__name__, str(exc))


def _samples(rng, alphabet, lengths, valid):
    """Random numbers of the given lengths, with their right check digits (``valid``), a
    mistyped one, and as drawn."""
    found = []
    for _ in range(400):
        body = "".join(rng.choice(alphabet) for _ in range(rng.choice(lengths)))
        found.append(body)
        if len(body) > 2:
            right = valid(body)
            found.append(right)
            found.append(right[:-1] + str((int(right[-1]) + 1) % 10))
    return found


EDGE = [
    "",
    "0",
    "00000000000",
    "00000000000000",
    "11111111111",
    "11111111111111",
    "12ABC34501DE35",  # the Receita's alphanumeric CNPJ example
    "12ABC34501DE36",
    "12abc34501DE35",
    "12ABC34501DEAB",
    "4006381333931",
    "40063813339310",
    "96385074",
    "036000291452",
    "1234567890",
]


def test_cpf_check_digits_are_stdnums():
    """requirement: a CPF erpsync accepts is one stdnum accepts, and a refusal reads alike."""
    rng = random.Random(11)
    numbers = _samples(
        rng,
        string.digits,
        (9, 10, 11, 12),
        lambda b: b[:9] + cpf._calc_check_digits(b[:9].ljust(9, "0")),
    )
    for number in numbers + EDGE:
        if not number.isdigit() and number:
            continue  # documents.cpf keeps the digits of what it is given
        assert _outcome(documents._valid_cpf, number) == _outcome(cpf.validate, number), number


def test_cnpj_check_digits_are_stdnums_alphanumeric_ones_included():
    """requirement: the numeric CNPJ and the alphanumeric one from July 2026 (each character
    counts as its ASCII code minus 48: IN RFB 2.229/2024) are checked as stdnum checks them."""
    rng = random.Random(14)
    alphabet = string.digits + string.ascii_uppercase
    numbers = _samples(
        rng,
        alphabet,
        (12, 13, 14, 15),
        lambda b: b[:12] + cnpj.calc_check_digits(b[:12].ljust(12, "0")),
    )
    numbers += _samples(
        rng, string.digits, (14,), lambda b: b[:12] + cnpj.calc_check_digits(b[:12])
    )
    for number in numbers + EDGE:
        if number != number.upper():
            continue  # documents.cnpj upper-cases first
        assert _outcome(documents._valid_cnpj, number) == _outcome(cnpj.validate, number), number


@pytest.mark.parametrize("written", ["4006381333931", "400-6381-33393-1", " 40063813 33931 "])
def test_gtin_accepts_spaces_and_dashes_as_stdnum_does(written):
    assert documents.gtin(written) == ean.validate(written) == "4006381333931"


def test_gtin_check_digits_are_stdnums():
    """requirement: GTIN-8, UPC-A (12), EAN-13 and GTIN-14, with the GS1 check digit."""
    rng = random.Random(13)
    numbers = _samples(
        rng,
        string.digits,
        (7, 8, 11, 12, 13, 14, 15),
        lambda b: b[:-1] + ean.calc_check_digit(b[:-1]),
    )
    for number in numbers + EDGE:
        assert _outcome(documents.gtin, number) == _outcome(ean.validate, number), number

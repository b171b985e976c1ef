"""Brazilian document numbers: normalise to digits and validate (CPF, CNPJ, CEP, UF, NF-e key,
GTIN).

Check digits are computed here, as python-stdnum 2.x computes them (``stdnum.br.cpf``,
``stdnum.br.cnpj`` with the alphanumeric CNPJ of IN RFB 2.229/2024 from July 2026: each
character counts as its ASCII code minus 48; ``stdnum.ean`` for GTIN-8/12/13/14), with its
refusals and messages: ``tests/test_documents.py`` checks both agree on valid, mistyped and
malformed numbers. Importing stdnum cost a pull 1.3 MiB of its peak RSS (issue 11 section 2:
``stdnum.util`` loads pydoc and ssl, and looks up Unicode names in ``unicodedata``'s tables at
import), for three short sums. The NF-e access key (chave de acesso, 44 digits, modulo-11
check digit per the SEFAZ "Manual de Orientação do Contribuinte") has no stdnum module.
"""

from __future__ import annotations

import functools
import re
import unicodedata


class ValidationError(ValueError):
    """A document number refused; its message is stdnum's for the same refusal."""


class InvalidFormat(ValidationError):
    def __init__(self) -> None:
        super().__init__("The number has an invalid format.")


class InvalidLength(ValidationError):
    def __init__(self) -> None:
        super().__init__("The number has an invalid length.")


class InvalidChecksum(ValidationError):
    def __init__(self) -> None:
        super().__init__("The number's checksum or check digit is invalid.")


UFS = frozenset(
    [
        "AC",
        "AL",
        "AP",
        "AM",
        "BA",
        "CE",
        "DF",
        "ES",
        "GO",
        "MA",
        "MT",
        "MS",
        "MG",
        "PA",
        "PB",
        "PR",
        "PE",
        "PI",
        "RJ",
        "RN",
        "RS",
        "RO",
        "RR",
        "SC",
        "SP",
        "SE",
        "TO",
    ]
)
#: state names (upper case, accents and extra spaces removed) -> UF. Platforms send the name
#: alone in places: Mercado Livre's billing address (`"state": {"name": "Rio de Janeiro"}`,
#: pt-br/faturamento, MLB example) and Amazon's StateOrRegion.
UF_BY_NAME = {
    "ACRE": "AC", "ALAGOAS": "AL", "AMAPA": "AP", "AMAZONAS": "AM", "BAHIA": "BA",
    "CEARA": "CE", "DISTRITO FEDERAL": "DF", "ESPIRITO SANTO": "ES", "GOIAS": "GO",
    "MARANHAO": "MA", "MATO GROSSO": "MT", "MATO GROSSO DO SUL": "MS", "MINAS GERAIS": "MG",
    "PARA": "PA", "PARAIBA": "PB", "PARANA": "PR", "PERNAMBUCO": "PE", "PIAUI": "PI",
    "RIO DE JANEIRO": "RJ", "RIO GRANDE DO NORTE": "RN", "RIO GRANDE DO SUL": "RS",
    "RONDONIA": "RO", "RORAIMA": "RR", "SANTA CATARINA": "SC", "SAO PAULO": "SP",
    "SERGIPE": "SE", "TOCANTINS": "TO",
}  # fmt: skip
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")
_NON_DIGIT = re.compile(r"\D")
_DIGITS = re.compile(r"[0-9]+")
_CNPJ_CHARACTERS = re.compile(r"[0-9A-Z]+")
#: what a GTIN may be written with besides its digits: spaces and dashes (stdnum's ``compact``
#: also maps Unicode's dashes to '-' first)
_GTIN_SEPARATORS = re.compile("[\\s\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d]")


def digits(value: str) -> str:
    return _NON_DIGIT.sub("", value)


#: valid numbers remembered (invalid ones raise, and are checked again each time): an order's
#: buyer document is checked where the mapping reads it (erpsync.lenient) and again by the
#: domain model it builds (``Buyer``), and stdnum's check was a measurable share of a pull's
#: CPU per order (bench/pull_orders.py --profile); the second check is now a look-up
_REMEMBERED = 4096


@functools.lru_cache(maxsize=_REMEMBERED)
def _valid_cpf(number: str) -> str:
    """``number`` (digits only) if it is a valid CPF (stdnum.br.cpf.validate)."""
    if not _DIGITS.fullmatch(number) or int(number) <= 0:
        raise InvalidFormat()
    if len(number) != 11:
        raise InvalidLength()
    first = (11 - sum((10 - i) * int(number[i]) for i in range(9))) % 11 % 10
    second = (11 - sum((11 - i) * int(number[i]) for i in range(9)) - 2 * first) % 11 % 10
    if f"{first}{second}" != number[-2:]:
        raise InvalidChecksum()
    return number


#: a CNPJ's weights for its first and second check digit
_CNPJ_WEIGHTS = ((5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2), (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2))


@functools.lru_cache(maxsize=_REMEMBERED)
def _valid_cnpj(number: str) -> str:
    """``number`` (upper-case letters and digits) if it is a valid CNPJ
    (stdnum.br.cnpj.validate)."""
    if not _CNPJ_CHARACTERS.fullmatch(number) or number.startswith("000000000000"):
        raise InvalidFormat()
    if len(number) != 14:
        raise InvalidLength()
    values = [ord(character) - 48 for character in number[:12]]
    for weights in _CNPJ_WEIGHTS:
        values.append((11 - sum(w * v for w, v in zip(weights, values, strict=True))) % 11 % 10)
    if f"{values[12]}{values[13]}" != number[-2:]:
        raise InvalidChecksum()
    return number


def gtin(value: str) -> str:
    """A GTIN-14, EAN-13, UPC-A (12) or EAN-8 as digits, spaces and dashes removed, if its
    GS1 check digit is right (stdnum.ean.validate); else ``ValidationError``."""
    number = _GTIN_SEPARATORS.sub("", value)
    if not _DIGITS.fullmatch(number):
        raise InvalidFormat()
    if len(number) not in (14, 13, 12, 8):
        raise InvalidLength()
    total = sum((3, 1)[i % 2] * int(d) for i, d in enumerate(reversed(number[:-1])))
    if str((10 - total) % 10) != number[-1]:
        raise InvalidChecksum()
    return number


def cpf(value: str) -> str:
    """Return the CPF as 11 digits, or raise ValueError."""
    number = digits(value)
    try:
        return _valid_cpf(number)
    except ValidationError as exc:
        raise ValueError(f"invalid CPF {_mask(number)}: {exc}") from None


def cnpj(value: str) -> str:
    """Return the CNPJ as 14 characters (digits, or the 2026 alphanumeric form), or raise."""
    number = _NON_ALNUM.sub("", value).upper()
    try:
        return _valid_cnpj(number)
    except ValidationError as exc:
        raise ValueError(f"invalid CNPJ {_mask(number)}: {exc}") from None


def cpf_or_cnpj(value: str) -> str:
    """Validate a buyer document: 11 characters is a CPF, 14 a CNPJ."""
    number = _NON_ALNUM.sub("", value).upper()
    if len(number) == 11:
        return cpf(number)
    if len(number) == 14:
        return cnpj(number)
    raise ValueError(f"document {_mask(number)} is neither a CPF (11) nor a CNPJ (14 characters)")


def cep(value: str) -> str:
    """Return the CEP as 8 digits, or raise ValueError."""
    number = digits(value)
    if len(number) != 8:
        raise ValueError(f"CEP must have 8 digits, got {value!r}")
    return number


def uf(value: str) -> str:
    """Return the UF of a UF, an ISO "BR-UF" code or a state name; raise ValueError otherwise."""
    code = value.strip().upper()
    if code.startswith("BR-"):  # ISO 3166-2, as Mercado Livre's new shipment format sends it
        code = code[3:]
    if code not in UFS:
        plain = unicodedata.normalize("NFKD", code).encode("ascii", "ignore").decode()
        code = UF_BY_NAME.get(" ".join(plain.split()), code)
    if code not in UFS:
        raise ValueError(f"not a Brazilian state (UF): {value!r}")
    return code


def nfe_key(value: str) -> str:
    """Validate an NF-e access key (44 digits, last one a modulo-11 check digit)."""
    key = digits(value)
    if len(key) != 44:
        raise ValueError(f"NF-e key must have 44 digits, got {len(key)}")
    if key[-1] != _nfe_check_digit(key[:43]):
        raise ValueError("NF-e key check digit does not match")
    if key[20:22] not in {"55", "65"}:
        raise ValueError(f"NF-e key model {key[20:22]} is not 55 (NF-e) or 65 (NFC-e)")
    return key


def _nfe_check_digit(first43: str) -> str:
    # weights 2..9 cycling from the rightmost digit; remainder 0 or 1 gives 0
    total = sum(int(d) * (2 + i % 8) for i, d in enumerate(reversed(first43)))
    remainder = total % 11
    return "0" if remainder < 2 else str(11 - remainder)


def _mask(number: str) -> str:
    """Show only the last two characters: documents are personal data."""
    return "*" * max(len(number) - 2, 0) + number[-2:]

"""Brazilian document numbers: normalise to digits and validate (CPF, CNPJ, CEP, UF, NF-e key).

CPF and CNPJ check digits come from python-stdnum (a maintained library that tracks the
Receita Federal rules, including the alphanumeric CNPJ from 2026). The NF-e access key (chave
de acesso, 44 digits, modulo-11 check digit per the SEFAZ "Manual de Orientação do
Contribuinte") is validated here because stdnum has no module for it.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from stdnum.br import cnpj as _cnpj
from stdnum.br import cpf as _cpf
from stdnum.exceptions import ValidationError

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


def digits(value: str) -> str:
    return _NON_DIGIT.sub("", value)


#: valid numbers remembered (invalid ones raise, and are checked again each time): an order's
#: buyer document is checked where the mapping reads it (erpsync.lenient) and again by the
#: domain model it builds (``Buyer``), and stdnum's check was a measurable share of a pull's
#: CPU per order (bench/pull_orders.py --profile); the second check is now a look-up
_REMEMBERED = 4096


@functools.lru_cache(maxsize=_REMEMBERED)
def _valid_cpf(number: str) -> str:
    return str(_cpf.validate(number))


@functools.lru_cache(maxsize=_REMEMBERED)
def _valid_cnpj(number: str) -> str:
    return str(_cnpj.validate(number))


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

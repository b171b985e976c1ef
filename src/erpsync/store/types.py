"""Column types that keep money exact (Decimal as TEXT), times aware UTC, and JSON as text."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.types import Text, TypeDecorator


class DecimalText(TypeDecorator[Decimal]):
    """A Decimal stored as its exact text ("129.90"), read back as the same Decimal.

    SQLite has no decimal type: NUMERIC columns store REAL and lose cents. TEXT keeps the value
    and its scale exactly, so "129.90" comes back as Decimal("129.90"), not 129.9.
    """

    impl = Text
    cache_ok = True

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            # a float here would already have lost its exact value: refuse rather than guess
            raise TypeError(f"DecimalText takes Decimal values, not {type(value).__name__}")
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


def _format_utc(value: datetime) -> str:
    # fixed width (always microseconds, always +00:00): text order equals time order in SQL
    return value.astimezone(UTC).isoformat(timespec="microseconds")


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as fixed-width ISO 8601 UTC text, always read back aware UTC.

    Naive datetimes are refused on write: a time without an offset is a bug upstream, and
    guessing its zone would shift orders by hours.
    """

    impl = Text
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UtcDateTime takes datetime values, not {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused (no UTC offset): {value.isoformat()}")
        return _format_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if parsed.tzinfo is None:
            # rows written by other tools as naive UTC text ("2024-05-01 12:00:00")
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)


def _json_default(value: Any) -> Any:
    # connectors may keep Decimals or times in ``extra``; store them as text rather than fail
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


#: what ``json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=...)`` builds
#: for every call, built once: the store encodes three values per pulled order
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default)


def dump_json(value: Any) -> str:
    """The one JSON encoding the store writes: compact, UTF-8 text, keys in insertion order."""
    return _ENCODER.encode(value)


class JsonText(TypeDecorator[Any]):
    """A JSON value (dict, list, ...) stored as text; Decimals and times are written as text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else dump_json(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)

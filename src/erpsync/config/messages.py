"""Turns config problems (pydantic errors, bad references) into lines ``file: key: what``."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from erpsync.errors import ConfigError

Loc = tuple[str | int, ...]

# pydantic error type -> our wording. Inputs are never printed: the value of a wrongly typed
# field may well be a secret (a token pasted under the wrong key), so only the key path and
# what was expected are shown.
_FIXED: dict[str, str] = {
    "missing": "field required",
    "extra_forbidden": "unknown key",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "decimal_type": "must be a decimal number",
    "decimal_parsing": "must be a decimal number",
    "dict_type": "must be a mapping (key: value)",
    "model_type": "must be a mapping (key: value)",
    "model_attributes_type": "must be a mapping (key: value)",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "set_type": "must be a list",
    "frozen_set_type": "must be a list",
    "url_type": "must be a URL",
    "url_parsing": "must be a URL",
    "none_required": "must be empty (null)",
    "path_type": "must be a file or folder path (text)",
}

# pydantic error type -> wording filled from the error's ``ctx`` (schema facts, never input)
_FROM_CONTEXT: dict[str, str] = {
    "greater_than_equal": "must be >= {ge}",
    "greater_than": "must be > {gt}",
    "less_than_equal": "must be <= {le}",
    "less_than": "must be < {lt}",
    "multiple_of": "must be a multiple of {multiple_of}",
    "string_too_short": "must be at least {min_length} characters long",
    "string_too_long": "must be at most {max_length} characters long",
    "too_short": "must have at least {min_length} item(s)",
    "too_long": "must have at most {max_length} item(s)",
    "string_pattern_mismatch": "must match the pattern {pattern}",
    "literal_error": "must be {expected}",
    "enum": "must be {expected}",
    "url_scheme": "must be a URL with scheme {expected_schemes}",
}

_MASK = "***"


class SchemaError(ValueError):
    """A validator message made only of schema facts (never the input), so it is not masked."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the config, at a key path inside the file."""

    loc: Loc
    text: str

    def render(self, label: str) -> str:
        where = format_loc(self.loc)
        return f"{label}: {where}: {self.text}" if where else f"{label}: {self.text}"


def format_loc(loc: Sequence[str | int]) -> str:
    """``("connectors", "ml", "locations", 0)`` -> ``connectors.ml.locations[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def describe(error: ErrorDetails) -> str:
    """The human wording of one pydantic error, without its input value."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "string_type" and _is_number(error.get("input")):
        # YAML reads an unquoted 12345 as a number; a text field then needs quotes
        return "must be text (put numbers in quotes)"
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind in _FIXED:
        return _FIXED[kind]
    if kind in _FROM_CONTEXT:
        try:
            return _FROM_CONTEXT[kind].format(**ctx)
        except (KeyError, IndexError):
            pass
    if kind in {"value_error", "assertion_error"} and "error" in ctx:
        cause = ctx["error"]
        if isinstance(cause, SchemaError):
            return str(cause)
        # a connector validator's own message: mask the input in case it was echoed
        return _mask(str(cause), error.get("input"))
    return _lower_first(error["msg"].replace("Input should be", "must be"))


def from_validation_error(exc: ValidationError, prefix: Loc = ()) -> list[Problem]:
    """One Problem per pydantic error, located under ``prefix``."""
    return [
        Problem(prefix + tuple(err["loc"]), describe(err))
        for err in exc.errors(include_url=False, include_input=True)
    ]


def config_error(label: str, problems: Iterable[Problem], document: Any = None) -> ConfigError:
    """One ConfigError carrying every problem, sorted in the order the keys appear in the file."""
    ordered = sorted(problems, key=lambda p: document_order(document, p.loc))
    lines = list(dict.fromkeys(p.render(label) for p in ordered))
    if len(lines) == 1:
        return ConfigError(lines[0], lines)
    return ConfigError(f"{label}: {len(lines)} problems in the configuration", lines)


def document_order(document: Any, loc: Loc) -> tuple[int, ...]:
    """A sort key that follows the file: key positions along ``loc``; missing keys go last."""
    key: list[int] = []
    node = document
    for part in loc:
        if isinstance(node, dict) and part in node:
            key.append(list(node).index(part))
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            key.append(part)
            node = node[part]
        else:
            key.append(sys.maxsize)
            break
    return tuple(key)


def kind_of(value: Any) -> str:
    """How a YAML value reads to a user: "a list", "text", "a number"..."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a " + type(value).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _mask(text: str, value: Any) -> str:
    if isinstance(value, str) and value.strip() and value in text:
        return text.replace(value, _MASK)
    return text


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]

"""Validation errors: every problem of both passes, one exact line each, never a secret."""

from __future__ import annotations

import importlib.metadata

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from erpsync.config import load_config
from erpsync.config.messages import Problem, describe, from_validation_error
from erpsync.errors import ConfigError

ML = """
connectors:
  ml-main:
    type: mercadolivre
    credentials: {client_id: "1", client_secret: s, refresh_token: TG-1}
"""
NAME_RULE = "(use a-z, 0-9, '-' and '_', starting with a letter or digit)"
KNOWN = "(known: amazon, files, magalu, mercadolivre)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("colour: blue\n", "colour: unknown key"),
        ("stock:\n  safety_stock: -1\n", "stock.safety_stock: must be >= 0"),
        ("stock:\n  safety_stock: many\n", "stock.safety_stock: must be an integer"),
        ("stock:\n  safety_stock: 1.5\n", "stock.safety_stock: must be a whole number"),
        ("stock:\n  safety_stock: true\n", "stock.safety_stock: must be an integer"),
        ("stock:\n  safety_stock: [1]\n", "stock.safety_stock: must be an integer"),
        ("stock:\n  default_location: ''\n", "stock.default_location: must not be empty"),
        ("stock:\n  reserve: 2\n", "stock.reserve: unknown key"),
        ("stock: 5\n", "stock: must be a mapping (key: value)"),
        ("database: 5\n", "database: must be text (put numbers in quotes)"),
        ("database: [a]\n", "database: must be text"),
        ("database: erpsync.db\n", "database: not a database URL (e.g. sqlite:///erpsync.db)"),
        ("connectors: [a]\n", "connectors: must be a mapping (key: value)"),
        (
            "connectors:\n  ML_Main: {type: files}\n",
            f"connectors.ML_Main: invalid connector name {NAME_RULE}",
        ),
        (
            "connectors:\n  -x: {type: files}\n",
            f"connectors.-x: invalid connector name {NAME_RULE}",
        ),
        ("connectors:\n  f: files\n", "connectors.f: must be a mapping (key: value)"),
        ("connectors:\n  f:\n", "connectors.f.type: field required"),
        ("connectors:\n  f: {type: ''}\n", "connectors.f.type: must not be empty"),
        (
            "connectors:\n  f: {type: shopee}\n",
            f"connectors.f.type: unknown connector type 'shopee' {KNOWN}",
        ),
        (
            "connectors:\n  f: {type: files, enabled: maybe}\n",
            "connectors.f.enabled: must be true or false",
        ),
        (
            "connectors:\n  f: {type: files, base_url: example.com}\n",
            "connectors.f.base_url: must be an http:// or https:// URL",
        ),
        (
            "connectors:\n  f: {type: files, auth_url: 'ftp://x'}\n",
            "connectors.f.auth_url: must be an http:// or https:// URL",
        ),
        (
            "connectors:\n  f: {type: files, locations: main}\n",
            "connectors.f.locations: must be a list",
        ),
        (
            "connectors:\n  f: {type: files, locations: []}\n",
            "connectors.f.locations: must have at least 1 item(s)",
        ),
        (
            "connectors:\n  f: {type: files, locations: [a, '']}\n",
            "connectors.f.locations[1]: must not be empty",
        ),
        (
            "connectors:\n  f: {type: files, locations: [a, a]}\n",
            "connectors.f.locations: lists 'a' twice",
        ),
        (
            "connectors:\n  f: {type: files, overlap_minutes: -5}\n",
            "connectors.f.overlap_minutes: must be >= 0",
        ),
        (
            "connectors:\n  f: {type: files, invoice_hold_hours: 24}\n",
            "connectors.f.invoice_hold_hours: a files connector pulls no invoices: only an ERP "
            "connector (tiny, bling) takes it",
        ),
        (
            "connectors:\n  f: {type: files, max_concurrency: 0}\n",
            "connectors.f.max_concurrency: must be >= 1",
        ),
        (
            "connectors:\n  f: {type: files, initial_lookback_days: soon}\n",
            "connectors.f.initial_lookback_days: must be an integer",
        ),
        ("connectors:\n  f: {type: files, overlap: 5}\n", "connectors.f.overlap: unknown key"),
        (
            "connectors:\n  f: {type: files, options: [inbox]}\n",
            "connectors.f.options: must be a mapping (key: value)",
        ),
        (
            "connectors:\n  f: {type: files, options: {folder: x}}\n",
            "connectors.f.options.folder: unknown key",
        ),
        (
            "connectors:\n  f: {type: files, credentials: {token: x}}\n",
            "connectors.f.credentials.token: unknown key",
        ),
        (
            "connectors:\n  ml-main:\n    type: mercadolivre\n"
            "    credentials: {client_id: '1', client_secret: s}\n",
            "connectors.ml-main.credentials.refresh_token: field required",
        ),
        (
            "connectors:\n  ml-main:\n    type: mercadolivre\n"
            "    credentials: {client_id: 123, client_secret: s, refresh_token: t}\n",
            "connectors.ml-main.credentials.client_id: must be text (put numbers in quotes)",
        ),
        (
            ML + "    options: {page_size: 100}\n",
            "connectors.ml-main.options.page_size: must be <= 50",
        ),
        (
            ML + "    options: {site_id: MLX}\n",
            "connectors.ml-main.options.site_id: must be 'MLB' or 'MLA'",
        ),
    ],
)
def test_one_problem_one_exact_line(problems, text, expected):
    """requirement: each mistake is one line "file: key.path: what is wrong"."""
    assert problems(text) == [f"erpsync.yaml: {expected}"]


def test_every_problem_of_both_passes_is_reported_in_file_order(problems):
    """requirement: all errors at once (shape and credentials), ordered as the file reads."""
    error_lines = problems(
        """
        database: sqlite:///x.db
        stock:
          safety_stock: -2
          colour: blue
        connectors:
          ml-main:
            type: mercadolivre
            enabled: perhaps
            credentials:
              client_id: ""
              client_sekret: x
          shop:
            type: shopee
          files-1:
            type: files
            options: {inbox: in, outbox: out}
        time_zone: UTC
        """
    )
    assert error_lines == [
        "erpsync.yaml: stock.safety_stock: must be >= 0",
        "erpsync.yaml: stock.colour: unknown key",
        "erpsync.yaml: connectors.ml-main.enabled: must be true or false",
        "erpsync.yaml: connectors.ml-main.credentials.client_id: must not be empty",
        "erpsync.yaml: connectors.ml-main.credentials.client_sekret: unknown key",
        "erpsync.yaml: connectors.ml-main.credentials.client_secret: field required",
        "erpsync.yaml: connectors.ml-main.credentials.refresh_token: field required",
        f"erpsync.yaml: connectors.shop.type: unknown connector type 'shopee' {KNOWN}",
        "erpsync.yaml: connectors.files-1.options.outbox: unknown key",
        "erpsync.yaml: time_zone: unknown key",
    ]


def test_several_problems_make_one_error_with_a_summary(write):
    """requirement: one ConfigError (exit 2) with a one-line summary and every problem."""
    write("colour: blue\nstock: {safety_stock: -1}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(env={})
    assert str(caught.value) == "erpsync.yaml: 2 problems in the configuration"
    assert len(caught.value.problems) == 2
    assert caught.value.exit_code == 2


def test_unknown_type_lists_installed_plugins_too(problems, monkeypatch):
    """requirement: the known list is built-ins plus entry-point names."""
    plugin = importlib.metadata.EntryPoint(
        name="shopee", value="erpsync_shopee:Shopee", group="erpsync.connectors"
    )
    monkeypatch.setattr(
        importlib.metadata, "entry_points", lambda **_: importlib.metadata.EntryPoints((plugin,))
    )
    assert problems("connectors:\n  x: {type: tiny}\n") == [
        "erpsync.yaml: connectors.x.type: unknown connector type 'tiny' "
        "(known: amazon, files, magalu, mercadolivre, shopee)"
    ]


SECRET = "TG-65f1c0ffee-SUPER-SECRET"


@pytest.mark.parametrize(
    "text",
    [
        # a token pasted under an integer key
        f"stock:\n  safety_stock: {SECRET}\n",
        f"connectors:\n  f: {{type: files, overlap_minutes: {SECRET}}}\n",
        # under a key that does not exist
        ML + f"    options: {{refresh_token: {SECRET}}}\n",
        # under a key whose type is an enum
        ML + f"    options: {{site_id: {SECRET}}}\n",
        # as a whole section
        f"connectors:\n  f: {{type: files, credentials: {SECRET}}}\n",
        f"connectors:\n  f: {{type: files, locations: {SECRET}}}\n",
        f"database: {SECRET}\n",
        f"connectors:\n  ml-main: {{type: mercadolivre, credentials: [{SECRET}]}}\n",
    ],
)
def test_secret_values_never_appear_in_messages(problems, text):
    """requirement: input values are never echoed, so a misplaced secret cannot leak."""
    lines = problems(text)
    assert lines
    assert not any(SECRET in line or "SUPER" in line for line in lines), lines


def test_secret_in_a_validator_message_is_masked():
    """requirement: a connector validator that echoes its input has the input masked."""

    class Creds(BaseModel):
        token: str

        @field_validator("token")
        @classmethod
        def _prefixed(cls, value: str) -> str:
            if not value.startswith("TG-"):
                raise ValueError(f"token {value} must start with TG-")
            return value

    with pytest.raises(ValidationError) as caught:
        Creds.model_validate({"token": "abcd1234"})
    assert from_validation_error(caught.value, ("credentials",)) == [
        Problem(("credentials", "token"), "token *** must start with TG-")
    ]


@pytest.mark.parametrize(
    ("error", "text"),
    [
        ({"type": "missing", "msg": "Field required"}, "field required"),
        ({"type": "extra_forbidden", "msg": "Extra inputs are not permitted"}, "unknown key"),
        (
            {"type": "string_too_short", "msg": "", "ctx": {"min_length": 3}},
            "must be at least 3 characters long",
        ),
        ({"type": "enum", "msg": "", "ctx": {"expected": "'a' or 'b'"}}, "must be 'a' or 'b'"),
        (
            {"type": "greater_than", "msg": "Input should be greater than 0"},
            "must be greater than 0",
        ),
        (
            {"type": "date_from_datetime_parsing", "msg": "Input should be a valid date"},
            "must be a valid date",
        ),
    ],
)
def test_pydantic_wording_is_translated(error, text):
    """requirement: pydantic's phrasing becomes ours; unknown kinds fall back to its message."""
    assert describe({"loc": (), "input": "SECRET", **error}) == text

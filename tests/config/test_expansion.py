"""``${VAR}`` / ``${VAR:-default}`` / ``$$`` expansion of string values."""

from __future__ import annotations

import pytest

from erpsync.config import load_config
from erpsync.config.loader import expand_text
from erpsync.errors import ConfigError

BAD = "invalid '${' reference: write ${VAR}, ${VAR:-default}, or $$ for a literal $"
ENV = {"TOKEN": "TG-123", "EMPTY": "", "DOLLAR": "a$b${X}"}


@pytest.mark.parametrize(
    ("text", "expected", "errors"),
    [
        ("${TOKEN}", "TG-123", []),
        ("Bearer ${TOKEN}!", "Bearer TG-123!", []),
        ("${TOKEN}${TOKEN}", "TG-123TG-123", []),
        ("${EMPTY}", "", []),
        ("${MISSING:-fallback}", "fallback", []),
        ("${EMPTY:-fallback}", "fallback", []),
        ("${TOKEN:-fallback}", "TG-123", []),
        ("${MISSING:-}", "", []),
        ("${MISSING:-a b:c}", "a b:c", []),
        ("$${TOKEN}", "${TOKEN}", []),
        ("pa$$word", "pa$word", []),
        ("pa$word", "pa$word", []),
        ("cost $5", "cost $5", []),
        ("${DOLLAR}", "a$b${X}", []),
        ("${MISSING}", "", ["environment variable MISSING is not set"]),
        (
            "${A}-${B}",
            "-",
            ["environment variable A is not set", "environment variable B is not set"],
        ),
        ("${not valid}", "${not valid}", [BAD]),
        ("${TOKEN", "${TOKEN", [BAD]),
        ("${X-default}", "${X-default}", [BAD]),
    ],
)
def test_expand_text(text, expected, errors):
    """requirement: shell-like ${VAR} / ${VAR:-default}; $$ is a literal $; no rescanning."""
    assert expand_text(text, ENV) == (expected, errors)


def test_expansion_applies_to_string_values_everywhere(write):
    """requirement: every string value is expanded, at any depth, lists included."""
    write(
        """
        database: ${DB:-sqlite:////data/erpsync.db}
        stock:
          safety_stock: ${SAFETY}
        connectors:
          ml-main:
            type: ${ML_TYPE:-mercadolivre}
            sandbox: ${ML_SANDBOX:-false}
            locations: ["${LOC}", b]
            credentials:
              client_id: "${ML_ID}"
              client_secret: ${ML_SECRET}
              refresh_token: $${literal}
        """
    )
    env = {"SAFETY": "3", "LOC": "loja", "ML_ID": "42", "ML_SECRET": "s3cr3t", "ML_SANDBOX": "yes"}
    config = load_config(env=env)
    ml = config.connectors["ml-main"]
    assert config.database == "sqlite:////data/erpsync.db"
    assert config.stock.safety_stock == 3
    assert (ml.type, ml.sandbox, ml.locations) == ("mercadolivre", True, ("loja", "b"))
    assert ml.credentials.client_secret.get_secret_value() == "s3cr3t"
    assert ml.credentials.refresh_token.get_secret_value() == "${literal}"


def test_a_variable_cannot_inject_yaml_structure(write):
    """requirement: expansion happens after parsing, so a value stays one string."""
    write("connectors:\n  f:\n    type: files\n    options: {inbox: '${INBOX}'}\n")
    config = load_config(env={"INBOX": "x\nextra: {type: amazon}"})
    assert config.connectors["f"].options.inbox == "x\nextra: {type: amazon}"
    assert list(config.connectors) == ["f"]


def test_keys_are_not_expanded(write):
    """requirement: only values are expanded; a key stays as written (and must be valid)."""
    write("connectors:\n  ${NAME}:\n    type: files\n")
    with pytest.raises(ConfigError) as caught:
        load_config(env={"NAME": "f"})
    assert caught.value.problems == [
        "erpsync.yaml: connectors.${NAME}: invalid connector name "
        "(use a-z, 0-9, '-' and '_', starting with a letter or digit)"
    ]


def test_unset_variable_names_key_and_variable_only(problems):
    """requirement: the message names the key path and the variable, never any value."""
    lines = problems(
        """
        stock:
          safety_stock: ${SAFETY}
        connectors:
          ml-main:
            type: mercadolivre
            credentials:
              client_id: "${ML_ID}"
              client_secret: ${ML_SECRET}
              refresh_token: "TG-abc-${ML_SUFFIX}"
        """,
        env={"ML_ID": "42"},
    )
    assert lines == [
        "erpsync.yaml: stock.safety_stock: environment variable SAFETY is not set",
        "erpsync.yaml: connectors.ml-main.credentials.client_secret: "
        "environment variable ML_SECRET is not set",
        "erpsync.yaml: connectors.ml-main.credentials.refresh_token: "
        "environment variable ML_SUFFIX is not set",
    ]
    assert not any("TG-abc" in line for line in lines)


def test_bad_reference_is_reported_once_per_value(problems):
    """requirement: a stray '${' is an error (it is almost always a typo), with how to escape."""
    lines = problems("database: 'sqlite:///${oops'\n")
    assert lines == [f"erpsync.yaml: database: {BAD}"]

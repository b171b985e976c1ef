"""The loaded Config: frozen, complete ConnectorSettings, secrets collected and never printed."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from pydantic import ValidationError

from erpsync.config import Config, StockSettings, load_config, parse_config
from erpsync.connector import ConnectorSettings, NoSettings
from erpsync.errors import ConfigError

FULL = """
database: postgresql://erp:db-pa55word@localhost/erp
stock:
  safety_stock: 2
  default_location: loja
connectors:
  ml-main:
    type: mercadolivre
    sandbox: true
    base_url: https://proxy:pr0xy-pass@api.example.test
    auth_url: https://api.example.test/oauth/token
    locations: [cd-sp, loja]
    overlap_minutes: 15
    initial_lookback_days: 7
    max_concurrency: 3
    credentials:
      client_id: "123"
      client_secret: ${ML_SECRET}
      refresh_token: TG-refresh-0001
    options: {page_size: 20}
  files-in:
    type: files
    enabled: false
"""
ENV = {"ML_SECRET": "app-secret-xyz"}


@pytest.fixture
def config(write) -> Config:
    write(FULL)
    return load_config(env=ENV)


def test_connector_settings_are_filled_from_the_block(config, fakes):
    """requirement: every block key lands in erpsync.connector.ConnectorSettings."""
    ml = config.connectors["ml-main"]
    assert isinstance(ml, ConnectorSettings)
    assert ml.name == "ml-main"
    assert ml.type == "mercadolivre"
    assert (ml.enabled, ml.sandbox) == (True, True)
    assert ml.base_url == "https://proxy:pr0xy-pass@api.example.test"
    assert ml.auth_url == "https://api.example.test/oauth/token"
    assert ml.locations == ("cd-sp", "loja")
    assert ml.overlap == timedelta(minutes=15)
    assert ml.initial_lookback == timedelta(days=7)
    assert ml.max_concurrency == 3
    assert ml.credentials.client_id == "123"
    assert ml.credentials.refresh_token.get_secret_value() == "TG-refresh-0001"
    assert ml.options.page_size == 20
    assert config.connector_classes == {
        "ml-main": fakes.FakeMercadoLivre,
        "files-in": fakes.FakeFiles,
    }


def test_defaults(config):
    """requirement: unset keys take documented defaults; locations default to the stock default."""
    files = config.connectors["files-in"]
    assert files.enabled is False
    assert files.sandbox is False
    assert (files.base_url, files.auth_url) == (None, None)
    assert files.locations == ("loja",)
    assert files.overlap is None  # the connector class's default_overlap applies
    assert files.initial_lookback == timedelta(days=30)
    assert isinstance(files.credentials, NoSettings)
    assert files.options.inbox == "inbox"
    assert config.stock == StockSettings(safety_stock=2, default_location="loja")


def test_minimal_config(write):
    """requirement: sections may be omitted or left empty."""
    write("stock:\nconnectors:\n")
    config = load_config(env={})
    assert config.stock == StockSettings(safety_stock=0, default_location="main")
    assert config.connectors == {}


def test_config_is_read_only(config):
    """requirement: the validated config cannot be changed by the code that uses it."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.database = "sqlite://"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.connectors["x"] = config.connectors["ml-main"]  # type: ignore[index]
    with pytest.raises(ValidationError):
        config.stock.safety_stock = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.connectors["ml-main"].enabled = False  # type: ignore[misc]


def test_secrets_collects_every_secret_value(config):
    """requirement: secrets() feeds the redactor every SecretStr and URL password."""
    # longest first, so a redactor replacing in order never leaves part of a longer secret
    assert config.secrets() == ["TG-refresh-0001", "app-secret-xyz", "db-pa55word", "pr0xy-pass"]


@pytest.mark.parametrize("render", [repr, str])
def test_printing_the_config_shows_no_secret(config, render):
    """requirement: repr/str of Config never show a secret."""
    text = render(config)
    assert "ml-main" in text
    for secret in config.secrets():
        assert secret not in text


def test_lookup_by_name(config, fakes):
    """requirement: an unknown connector name is a ConfigError listing the configured ones."""
    assert config.connector("files-in").type == "files"
    assert config.connector_class("ml-main") is fakes.FakeMercadoLivre
    with pytest.raises(
        ConfigError, match=r"^unknown connector 'x' \(configured: ml-main, files-in\)$"
    ):
        config.connector("x")


def test_parse_config_validates_in_memory_documents():
    """requirement: tools and tests can validate a mapping without writing a file."""
    config = parse_config({"connectors": {"f": {"type": "files"}}}, env={})
    assert config.path is None
    assert list(config.connectors) == ["f"]
    with pytest.raises(ConfigError) as caught:
        parse_config({"connectors": {"f": {}}}, label="<memory>", env={})
    assert caught.value.problems == ["<memory>: connectors.f.type: field required"]


def test_config_can_be_built_directly(fakes):
    """requirement: engine tests can build a Config by hand; plain dicts get frozen."""
    settings = ConnectorSettings(name="f", type="files")
    config = Config(connectors={"f": settings}, connector_classes={"f": fakes.FakeFiles})
    assert config.connector_class("f") is fakes.FakeFiles
    assert config.secrets() == []
    with pytest.raises(TypeError):
        config.connectors["g"] = settings  # type: ignore[index]

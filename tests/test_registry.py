"""The connector registry: built-in table, entry-point plugins, module:Class, clear errors."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import types

import pytest

from erpsync import registry
from erpsync.connector import Connector
from erpsync.errors import ConfigError

MODULE = "erpsync_registry_test_fakes"
SHIPPED_BUILTINS = dict(registry.BUILTIN_CONNECTORS)  # read before any fixture patches it


class FakeConnector(Connector):
    type = "fake"
    platform = "Fake"


class NotAConnector:
    pass


def _entry_point(name: str, value: str) -> importlib.metadata.EntryPoint:
    return importlib.metadata.EntryPoint(name=name, value=value, group=registry.ENTRY_POINT_GROUP)


@pytest.fixture(autouse=True)
def fakes(monkeypatch):
    """A fake module of classes, a fake built-in table, and a controllable plugin list."""
    module = types.ModuleType(MODULE)
    module.FakeConnector = FakeConnector  # type: ignore[attr-defined]
    module.NotAConnector = NotAConnector  # type: ignore[attr-defined]
    module.Nested = types.SimpleNamespace(Inner=FakeConnector)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, MODULE, module)
    monkeypatch.setattr(
        registry,
        "BUILTIN_CONNECTORS",
        {"files": f"{MODULE}:FakeConnector", "broken": f"{MODULE}:NotAConnector"},
    )
    plugins: list[importlib.metadata.EntryPoint] = []

    def entry_points(*, group: str) -> importlib.metadata.EntryPoints:
        assert group == "erpsync.connectors"
        return importlib.metadata.EntryPoints(plugins)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    return plugins


def test_builtin_table_is_lazy_dotted_strings():
    """requirement: the shipped built-ins are module:Class strings, imported only on demand."""
    assert SHIPPED_BUILTINS == {
        "files": "erpsync.connectors.files:FilesConnector",
        "mercadolivre": "erpsync.connectors.mercadolivre:MercadoLivreConnector",
        "amazon": "erpsync.connectors.amazon:AmazonConnector",
        "magalu": "erpsync.connectors.magalu:MagaluConnector",
        "nuvemshop": "erpsync.connectors.nuvemshop:NuvemshopConnector",
        "lojaintegrada": "erpsync.connectors.lojaintegrada:LojaIntegradaConnector",
        "bling": "erpsync.connectors.bling:BlingConnector",
        "vnda": "erpsync.connectors.vnda:VndaConnector",
        "anymarket": "erpsync.connectors.anymarket:AnymarketConnector",
        "tiny": "erpsync.connectors.tiny:TinyConnector",
    }


def test_importing_the_registry_imports_no_connector():
    """requirement: `erpsync --help` stays fast: no connector package is imported up front."""
    code = (
        "import sys, erpsync.registry\n"
        "print(sorted(m for m in sys.modules if m.startswith('connectors')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_resolve_builtin():
    """requirement: a built-in name resolves through the table."""
    assert registry.resolve("files") is FakeConnector


def test_resolve_entry_point(fakes):
    """requirement: plugins register classes under the erpsync.connectors entry-point group."""
    fakes.append(_entry_point("shopee", f"{MODULE}:FakeConnector"))
    assert registry.resolve("shopee") is FakeConnector


def test_builtin_name_cannot_be_taken_over_by_a_plugin(fakes):
    """requirement: a plugin registering a built-in's name does not replace the built-in."""
    fakes.append(_entry_point("files", f"{MODULE}:NotAConnector"))
    assert registry.resolve("files") is FakeConnector


@pytest.mark.parametrize("reference", [f"{MODULE}:FakeConnector", f"{MODULE}:Nested.Inner"])
def test_resolve_module_colon_class(reference):
    """requirement: any importable package.module:ClassName works as a type."""
    assert registry.resolve(reference) is FakeConnector


def test_known_types_are_builtins_and_plugins_sorted(fakes):
    """requirement: known_types() lists every usable name for messages and `connectors list`."""
    fakes.append(_entry_point("shopee", f"{MODULE}:FakeConnector"))
    fakes.append(_entry_point("files", f"{MODULE}:FakeConnector"))
    assert registry.known_types() == ["broken", "files", "shopee"]


@pytest.mark.parametrize(
    ("type_name", "plugin", "message"),
    [
        ("shopee", None, "unknown connector type 'shopee' (known: broken, files)"),
        ("tiny", ("tiny2", "x:Y"), "unknown connector type 'tiny' (known: broken, files, tiny2)"),
        (
            "broken",
            None,
            f"connector type 'broken': {MODULE}:NotAConnector is not a Connector subclass",
        ),
        (f"{MODULE}:Missing", None, f"connector type '{MODULE}:Missing': {MODULE} has no Missing"),
        (
            "nope.mod:Class",
            None,
            "connector type 'nope.mod:Class': cannot import nope.mod: "
            "ModuleNotFoundError: No module named 'nope'",
        ),
        ("a:b:c", None, "connector type 'a:b:c': expected package.module:ClassName"),
        (
            "plug",
            ("plug", "nope_plugin:C"),
            "connector type 'plug': cannot load nope_plugin:C: "
            "ModuleNotFoundError: No module named 'nope_plugin'",
        ),
        (
            "plug",
            ("plug", f"{MODULE}:NotAConnector"),
            f"connector type 'plug': {MODULE}:NotAConnector is not a Connector subclass",
        ),
    ],
)
def test_resolution_errors_are_config_errors(fakes, type_name, plugin, message):
    """requirement: every failure is one ConfigError line (exit 2) saying what to fix."""
    if plugin:
        fakes.append(_entry_point(*plugin))
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$") as caught:
        registry.resolve(type_name)
    assert caught.value.exit_code == 2


def test_a_module_that_fails_at_import_is_reported_in_one_line(monkeypatch, tmp_path):
    """requirement: a plugin that raises while importing gives a ConfigError, not a traceback."""
    (tmp_path / "erpsync_exploding_plugin.py").write_text("raise RuntimeError('boom\\nmore')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError) as caught:
        registry.resolve("erpsync_exploding_plugin:C")
    assert str(caught.value) == (
        "connector type 'erpsync_exploding_plugin:C': cannot import erpsync_exploding_plugin: "
        "RuntimeError: boom"
    )
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_resolving_a_builtin_does_not_scan_plugins(monkeypatch):
    """requirement: built-ins resolve without reading entry-point metadata (fast path)."""

    def fail(**_):
        raise AssertionError("entry points scanned")

    monkeypatch.setattr(importlib.metadata, "entry_points", fail)
    assert registry.resolve("files") is FakeConnector

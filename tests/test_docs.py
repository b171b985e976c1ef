"""Code and docs agree: every command has help and is in the README, every config key is in
config.example.yaml, every built-in connector has an emulator, fixtures and a contract test."""

import ast
import importlib
from pathlib import Path

import pytest
import typer.main
import yaml

from erpsync.cli import app
from erpsync.config import load_config
from erpsync.registry import BUILTIN_CONNECTORS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "config.example.yaml"


def commands():
    root = typer.main.get_command(app)
    for name, command in root.commands.items():
        if hasattr(command, "commands"):
            for sub_name, sub in command.commands.items():
                yield f"{name} {sub_name}", sub
        else:
            yield name, command


@pytest.mark.parametrize(("name", "command"), list(commands()), ids=lambda v: str(v))
def test_every_command_has_help_and_is_in_the_readme(name, command):
    assert command.help, f"`erpsync {name}` has no help text"
    assert f"erpsync {name}" in README, f"`erpsync {name}` is not documented in README.md"


def test_the_example_config_is_valid_and_offline():
    config = load_config(EXAMPLE, env={})
    assert all(s.sandbox or s.type == "files" for s in config.connectors.values())


@pytest.mark.parametrize("type_name", sorted(BUILTIN_CONNECTORS))
def test_every_builtin_connector_is_in_the_example_and_the_readme(type_name):
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    types = {c["type"] for c in data["connectors"].values()}
    assert type_name in types
    assert f"`type: {type_name}`" in README


@pytest.mark.parametrize("type_name", sorted(BUILTIN_CONNECTORS))
def test_every_documented_option_exists_in_the_example(type_name):
    """Every Credentials/Options field of a built-in connector appears in config.example.yaml."""
    module_name, _, class_name = BUILTIN_CONNECTORS[type_name].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    text = EXAMPLE.read_text(encoding="utf-8")
    for model in (cls.Credentials, cls.Options):
        for field in model.model_fields:
            assert f"{field}:" in text, f"{type_name}: {field} missing from config.example.yaml"


@pytest.mark.parametrize("type_name", sorted(set(BUILTIN_CONNECTORS) - {"files"}))
def test_every_http_connector_has_an_emulator_fixtures_and_a_contract_test(type_name):
    """requirement (issue 6): one layout everywhere, connectors/_template/README.md's."""
    folder = ROOT / "connectors" / type_name
    for name in ("__init__.py", "connector.py", "settings.py", "orders.py"):
        assert (folder / name).exists(), f"{type_name}: {name} missing"
    for name in ("__init__.py", "app.py", "seed.py", "wire.py"):
        assert (folder / "emulator" / name).exists(), f"{type_name}: emulator/{name} missing"
    assert not (folder / "emulator.py").exists() and not (folder / "mapping.py").exists()
    assert list((folder / "fixtures").glob("*.json"))
    contract = ROOT / "tests" / "connectors" / type_name / "test_contract.py"
    assert "ConnectorContract" in contract.read_text(encoding="utf-8")


@pytest.mark.parametrize("type_name", sorted(set(BUILTIN_CONNECTORS) - {"files"}))
def test_every_emulator_imports_nothing_from_the_connector_it_checks(type_name):
    """requirement: an emulator is an independent witness; one that imports the connector's
    helpers agrees with their bugs."""
    package = f"erpsync.connectors.{type_name}"
    for path in (ROOT / "connectors" / type_name / "emulator").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                assert node.level <= 1, f"{path.name}: from {'.' * node.level}{module} import"
                if module.startswith(package):
                    assert module.startswith(f"{package}.emulator"), f"{path.name}: {module}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    name = alias.name
                    assert not name.startswith(package) or name.startswith(f"{package}.emulator")

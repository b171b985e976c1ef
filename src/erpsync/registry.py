"""Connector type -> connector class: built-ins, then entry-point plugins, then ``module:Class``.

Built-ins and plugins go through the same door (llm's ``DEFAULT_PLUGINS`` next to its
setuptools entry points). The built-in table holds dotted strings and imports nothing until a
type is asked for, so ``erpsync --help`` never pays for httpx, pydantic models or emulators.

Resolution order for a config's ``type``:

1. ``BUILTIN_CONNECTORS`` (a plugin cannot take over a built-in name);
2. entry points in the ``erpsync.connectors`` group, e.g. in a plugin's pyproject.toml::

       [project.entry-points."erpsync.connectors"]
       shopee = "erpsync_shopee:ShopeeConnector"

3. a literal ``package.module:ClassName`` reference.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from importlib import metadata
from types import MappingProxyType

from erpsync.connector import Connector
from erpsync.errors import ConfigError

ENTRY_POINT_GROUP = "erpsync.connectors"

BUILTIN_CONNECTORS: Mapping[str, str] = MappingProxyType(
    {
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
)

_REFERENCE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def known_types() -> list[str]:
    """Every type name usable in a config: built-ins and installed plugins, sorted.

    Returns:
        The names, without ``module:Class`` references (those are open-ended).
    """
    return sorted(set(BUILTIN_CONNECTORS) | set(_plugins()))


def resolve(type_name: str) -> type[Connector]:
    """The connector class for a config's ``type``.

    Args:
        type_name: a built-in name, an entry-point name, or ``package.module:ClassName``.

    Returns:
        A subclass of :class:`erpsync.connector.Connector` (not instantiated).

    Raises:
        ConfigError: the type is unknown (the message lists the known ones), its module
            cannot be imported, or the object found is not a Connector subclass.
    """
    builtin = BUILTIN_CONNECTORS.get(type_name)
    if builtin is not None:
        return _checked(type_name, builtin, _import(type_name, builtin))
    plugin = _plugins().get(type_name)
    if plugin is not None:
        return _checked(type_name, plugin.value, _load_entry_point(type_name, plugin))
    if ":" in type_name:
        if not _REFERENCE.fullmatch(type_name):
            raise ConfigError(f"connector type '{type_name}': expected package.module:ClassName")
        return _checked(type_name, type_name, _import(type_name, type_name))
    known = ", ".join(known_types())
    raise ConfigError(f"unknown connector type '{type_name}' (known: {known})")


def _plugins() -> dict[str, metadata.EntryPoint]:
    found: dict[str, metadata.EntryPoint] = {}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        # two distributions claiming one name: the first found wins, deterministically per env
        found.setdefault(entry_point.name, entry_point)
    return found


def _import(type_name: str, reference: str) -> object:
    module_name, _, qualname = reference.partition(":")
    try:
        target: object = importlib.import_module(module_name)
    except Exception as exc:  # a plugin failing to import is a config problem, not a crash
        raise ConfigError(
            f"connector type '{type_name}': cannot import {module_name}: {_first_line(exc)}"
        ) from exc
    for attribute in qualname.split("."):
        try:
            target = getattr(target, attribute)
        except AttributeError:
            raise ConfigError(
                f"connector type '{type_name}': {module_name} has no {qualname}"
            ) from None
    return target


def _load_entry_point(type_name: str, entry_point: metadata.EntryPoint) -> object:
    try:
        return entry_point.load()
    except Exception as exc:
        raise ConfigError(
            f"connector type '{type_name}': cannot load {entry_point.value}: {_first_line(exc)}"
        ) from exc


def _checked(type_name: str, reference: str, target: object) -> type[Connector]:
    if not (isinstance(target, type) and issubclass(target, Connector)):
        raise ConfigError(f"connector type '{type_name}': {reference} is not a Connector subclass")
    return target


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__

"""The shape of erpsync.yaml: top-level models, per-connector validation, the frozen Config."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretBytes,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from erpsync import registry
from erpsync.config.loader import DEFAULT_DATABASE, database_url_problem
from erpsync.config.messages import Problem, SchemaError, from_validation_error
from erpsync.connector import Capability, Connector, ConnectorSettings
from erpsync.errors import ConfigError

CONNECTOR_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
BAD_NAME = "invalid connector name (use a-z, 0-9, '-' and '_', starting with a letter or digit)"


def _no_bool(value: Any) -> Any:
    # pydantic's lax int takes true/false as 1/0; "safety_stock: yes" is a mistake, not 1
    if isinstance(value, bool):
        raise SchemaError("must be an integer")
    return value


def _http_url(value: str) -> str:
    if not re.fullmatch(r"https?://\S+", value):
        raise SchemaError("must be an http:// or https:// URL")
    return value


def _database_url(value: str) -> str:
    problem = database_url_problem(value)
    if problem:
        raise SchemaError(problem)
    return value


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    for index, value in enumerate(values):
        if value in values[:index]:
            raise SchemaError(f"lists '{value}' twice")
    return values


Count = Annotated[int, BeforeValidator(_no_bool), Field(ge=0)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
HttpUrlText = Annotated[Text, AfterValidator(_http_url)]
Locations = Annotated[tuple[Text, ...], Field(min_length=1), AfterValidator(_unique)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StockSettings(_Section):
    """The ``stock`` section."""

    #: units held back from every channel
    safety_stock: Count = 0
    #: the location a connector sells from when it lists no ``locations``
    default_location: Text = "main"
    #: an ERP connector's name: its stock (``pull-stock``) is the on-hand push-stock uses;
    #: None: erpsync's own ledger
    source: Text | None = None


class ConnectorBlock(_Section):
    """The shape of one ``connectors.<name>`` block; credentials/options are checked later."""

    type: Text
    enabled: bool = True
    sandbox: bool = False
    base_url: HttpUrlText | None = None
    auth_url: HttpUrlText | None = None
    locations: Locations | None = None
    overlap_minutes: Count | None = None
    initial_lookback_days: Count | None = None
    max_concurrency: Annotated[int, BeforeValidator(_no_bool), Field(ge=1, le=64)] | None = None
    #: ERP connectors: hours an NF-e shown not ready may hold the invoices watermark (1 to 30 days)
    invoice_hold_hours: Annotated[int, BeforeValidator(_no_bool), Field(ge=1, le=720)] | None = None
    credentials: dict[str, Any] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _empty_block(cls, data: Any) -> Any:
        # "ml-main:" with nothing under it: report its missing keys, not "must be a mapping"
        return {} if data is None else data

    @field_validator("credentials", "options", mode="before")
    @classmethod
    def _empty_section(cls, value: Any) -> Any:
        return {} if value is None else value


def _time_zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SchemaError("unknown time zone (use an IANA name, e.g. America/Sao_Paulo)") from None
    return value


#: the seller's time zone when the config names none
DEFAULT_TIMEZONE = "America/Sao_Paulo"


class ConfigFile(_Section):
    """The top level of erpsync.yaml."""

    database: Annotated[Text, AfterValidator(_database_url)] | None = None
    #: how the CLI shows times, and what a bare --since date means (--json stays UTC)
    timezone: Annotated[Text, AfterValidator(_time_zone)] = DEFAULT_TIMEZONE
    stock: StockSettings = Field(default_factory=StockSettings)
    connectors: dict[str, ConnectorBlock] = Field(default_factory=dict)

    @field_validator("stock", "connectors", mode="before")
    @classmethod
    def _empty_section(cls, value: Any) -> Any:
        # a section whose entries are all commented out parses as null
        return {} if value is None else value


@dataclass(frozen=True)
class Checked:
    """What the second pass found valid for one connector."""

    cls: type[Connector]
    credentials: BaseModel
    options: BaseModel


def validate_shape(data: Mapping[str, Any]) -> tuple[ConfigFile | None, list[Problem]]:
    """Pass 1: the top-level shape, plus connector names."""
    connectors = data.get("connectors")
    names = list(connectors) if isinstance(connectors, dict) else []
    problems = [
        Problem(("connectors", name), BAD_NAME)
        for name in names
        if not (isinstance(name, str) and CONNECTOR_NAME.fullmatch(name))
    ]
    try:
        return ConfigFile.model_validate(data), problems
    except ValidationError as exc:
        return None, problems + from_validation_error(exc)


def stock_source_problems(data: Mapping[str, Any], checked: Mapping[str, Checked]) -> list[Problem]:
    """``stock.source`` must name a configured connector that is a stock source (an ERP)."""
    stock = data.get("stock")
    source = stock.get("source") if isinstance(stock, dict) else None
    if not isinstance(source, str) or not source.strip():
        return []
    loc = ("stock", "source")
    blocks = _connector_blocks(data)
    if source not in blocks:
        known = ", ".join(blocks) or "none configured"
        return [Problem(loc, f"names no configured connector (configured: {known})")]
    found = checked.get(source)
    if found is not None and Capability.PULL_STOCK not in found.cls.capabilities:
        return [
            Problem(
                loc,
                f"{source} is a {found.cls.type} connector, which has no stock to read: "
                "name an ERP connector (tiny, bling)",
            )
        ]
    return []


def invoice_hold_problems(data: Mapping[str, Any], checked: Mapping[str, Checked]) -> list[Problem]:
    """``invoice_hold_hours`` only means something on a connector that pulls invoices (an ERP)."""
    problems = []
    for name, block in _connector_blocks(data).items():
        found = checked.get(name)
        if block.get("invoice_hold_hours") is None or found is None:
            continue
        if Capability.PULL_INVOICES not in found.cls.capabilities:
            problems.append(
                Problem(
                    ("connectors", name, "invoice_hold_hours"),
                    f"a {found.cls.type} connector pulls no invoices: only an ERP connector "
                    "(tiny, bling) takes it",
                )
            )
    return problems


def validate_connectors(data: Mapping[str, Any]) -> tuple[dict[str, Checked], list[Problem]]:
    """Pass 2: each block's credentials/options against its type's models.

    Works on the raw data, so it runs (and reports) even when pass 1 failed elsewhere.
    """
    checked: dict[str, Checked] = {}
    problems: list[Problem] = []
    for name, block in _connector_blocks(data).items():
        found, block_problems = _check_block(name, block)
        problems.extend(block_problems)
        if found is not None:
            checked[name] = found
    return checked, problems


def _check_block(name: str, block: dict[str, Any]) -> tuple[Checked | None, list[Problem]]:
    type_name = block.get("type")
    if not isinstance(type_name, str) or not type_name.strip():
        return None, []  # pass 1 reports a missing or mistyped type
    try:
        cls = registry.resolve(type_name.strip())
    except ConfigError as exc:
        return None, [Problem(("connectors", name, "type"), str(exc))]
    models: dict[str, BaseModel] = {}
    problems: list[Problem] = []
    for section, model in (("credentials", cls.Credentials), ("options", cls.Options)):
        raw = block.get(section)
        raw = {} if raw is None else raw
        if not isinstance(raw, dict):
            continue  # pass 1 reports "must be a mapping"
        found = _validate_section(model, raw, ("connectors", name, section))
        if isinstance(found, BaseModel):
            models[section] = found
        else:
            problems.extend(found)
    if len(models) < 2:
        return None, problems
    return Checked(cls, models["credentials"], models["options"]), problems


def _validate_section(
    model: type[BaseModel], raw: dict[str, Any], loc: tuple[str, ...]
) -> BaseModel | list[Problem]:
    problems: list[Problem] = []
    if model.model_config.get("extra") in (None, "ignore"):
        # a model that silently drops unknown keys would hide typos; report them anyway
        known = {f.alias or n for n, f in model.model_fields.items()} | set(model.model_fields)
        problems = [Problem((*loc, key), "unknown key") for key in raw if key not in known]
    try:
        validated = model.model_validate(raw)
    except ValidationError as exc:
        return problems + from_validation_error(exc, loc)
    return problems or validated


def _connector_blocks(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    connectors = data.get("connectors")
    if not isinstance(connectors, dict):
        return {}
    return {
        str(name): ({} if block is None else block)
        for name, block in connectors.items()
        if block is None or isinstance(block, dict)
    }


def settings_for(
    name: str,
    block: ConnectorBlock,
    checked: Checked,
    stock: StockSettings,
    *,
    base_dir: Path | None = None,
) -> ConnectorSettings:
    """One ConnectorSettings from both passes' results.

    Option values that are relative paths are made absolute against ``base_dir`` (the config
    file's folder), so a connector finds its folders wherever erpsync runs from.
    """
    extra: dict[str, Any] = {}
    if block.initial_lookback_days is not None:
        extra["initial_lookback"] = timedelta(days=block.initial_lookback_days)
    if block.invoice_hold_hours is not None:
        extra["invoice_hold"] = timedelta(hours=block.invoice_hold_hours)
    return ConnectorSettings(
        name=name,
        type=block.type,
        credentials=checked.credentials,
        options=_anchor_paths(checked.options, base_dir),
        enabled=block.enabled,
        sandbox=block.sandbox,
        base_url=block.base_url,
        auth_url=block.auth_url,
        locations=block.locations or (stock.default_location,),
        overlap=None if block.overlap_minutes is None else timedelta(minutes=block.overlap_minutes),
        max_concurrency=block.max_concurrency,
        **extra,
    )


def _anchor_paths(options: Any, base_dir: Path | None) -> Any:
    """``options`` with every relative ``Path`` field made absolute against ``base_dir``."""
    if base_dir is None or not isinstance(options, BaseModel):
        return options
    anchored = {
        key: base_dir / value.expanduser()
        for key, value in options
        if isinstance(value, Path) and not value.expanduser().is_absolute()
    }
    return options.model_copy(update=anchored) if anchored else options


@dataclass(frozen=True, eq=False)
class Config:
    """The validated, read-only configuration.

    ``connectors`` and ``connector_classes`` are read-only mappings in file order; plain
    dicts passed in (e.g. by tests) are wrapped.
    """

    path: Path | None = None
    database: str = DEFAULT_DATABASE
    timezone: str = DEFAULT_TIMEZONE
    stock: StockSettings = field(default_factory=StockSettings)
    connectors: Mapping[str, ConnectorSettings] = field(default_factory=dict)
    connector_classes: Mapping[str, type[Connector]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "connectors", MappingProxyType(dict(self.connectors)))
        object.__setattr__(
            self, "connector_classes", MappingProxyType(dict(self.connector_classes))
        )

    def connector(self, name: str) -> ConnectorSettings:
        """The settings of connector ``name``; ConfigError listing the configured names."""
        try:
            return self.connectors[name]
        except KeyError:
            known = ", ".join(self.connectors) or "none configured"
            raise ConfigError(f"unknown connector '{name}' (configured: {known})") from None

    def connector_class(self, name: str) -> type[Connector]:
        """The class of connector ``name`` (resolved while loading, so no import errors here)."""
        settings = self.connector(name)
        found = self.connector_classes.get(name)
        return found if found is not None else registry.resolve(settings.type)

    def secrets(self) -> list[str]:
        """Every secret value in the config, for the redactor; longest first, no duplicates.

        That is each SecretStr/SecretBytes in every connector's credentials and options
        (nested models, lists and mappings included), and the password of the database URL
        and of any ``base_url`` / ``auth_url`` written as ``https://user:password@host``.
        """
        found: list[str] = []
        for settings in self.connectors.values():
            _collect_secrets(settings.credentials, found)
            _collect_secrets(settings.options, found)
            found.extend(_url_password(url) for url in (settings.base_url, settings.auth_url))
        found.append(_url_password(self.database))
        unique = [value for value in dict.fromkeys(found) if value]
        return sorted(unique, key=len, reverse=True)

    def __repr__(self) -> str:
        # SecretStr fields already print as '**********'; URLs may still carry a password
        text = (
            f"Config(path={self.path!r}, database={self.database!r}, stock={self.stock!r}, "
            f"connectors={dict(self.connectors)!r})"
        )
        for secret in self.secrets():
            text = text.replace(secret, "***")
        return text

    __str__ = __repr__


def _collect_secrets(value: Any, found: list[str]) -> None:
    if isinstance(value, SecretStr):
        found.append(value.get_secret_value())
    elif isinstance(value, SecretBytes):
        found.append(value.get_secret_value().decode("utf-8", "replace"))
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _collect_secrets(getattr(value, name), found)
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect_secrets(item, found)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _collect_secrets(item, found)


def _url_password(url: str | None) -> str:
    try:
        return (urlsplit(url).password or "") if url else ""
    except ValueError:  # a malformed port or netloc: no password to find
        return ""

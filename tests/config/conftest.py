"""Config tests run against fake connectors standing in for the built-ins, in a clean tmp cwd."""

from __future__ import annotations

import importlib.metadata
import sys
import textwrap
import types
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from erpsync import registry
from erpsync.config import load_config
from erpsync.connector import Connector
from erpsync.errors import ConfigError

FAKE_MODULE = "erpsync_config_test_fakes"


class FakeMLCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr


class FakeMLOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    page_size: int = Field(default=50, ge=1, le=50)
    site_id: Literal["MLB", "MLA"] = "MLB"


class FakeMercadoLivre(Connector):
    """Shaped like the real mercadolivre connector's settings, without its imports."""

    type = "mercadolivre"
    platform = "Fake ML"
    Credentials = FakeMLCredentials
    Options = FakeMLOptions


class FakeFilesOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    inbox: str = "inbox"
    drop_folder: Path | None = None


class FakeFiles(Connector):
    type = "files"
    platform = "Fake files"
    Options = FakeFilesOptions


class FakeOther(Connector):
    type = "other"
    platform = "Fake other"


FAKE_BUILTINS = {
    "files": f"{FAKE_MODULE}:FakeFiles",
    "mercadolivre": f"{FAKE_MODULE}:FakeMercadoLivre",
    "amazon": f"{FAKE_MODULE}:FakeOther",
    "magalu": f"{FAKE_MODULE}:FakeOther",
}


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Fakes for the built-in types, no installed plugins, an empty cwd, no ERPSYNC_* vars."""
    module = types.ModuleType(FAKE_MODULE)
    for cls in (FakeMercadoLivre, FakeFiles, FakeOther):
        setattr(module, cls.__name__, cls)
    monkeypatch.setitem(sys.modules, FAKE_MODULE, module)
    monkeypatch.setattr(registry, "BUILTIN_CONNECTORS", FAKE_BUILTINS)
    monkeypatch.setattr(
        importlib.metadata, "entry_points", lambda **_: importlib.metadata.EntryPoints(())
    )
    for name in ("ERPSYNC_CONFIG", "ERPSYNC_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def fakes() -> types.ModuleType:
    """The module holding the fake connector classes (FakeMercadoLivre, FakeFiles, FakeOther)."""
    return sys.modules[FAKE_MODULE]


@pytest.fixture
def write() -> Callable[..., Path]:
    """Write (dedented) YAML text to a file in the cwd; returns its path."""

    def _write(text: str, name: str = "erpsync.yaml") -> Path:
        path = Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def problems(write: Callable[..., Path]) -> Callable[..., list[str]]:
    """Load ``text`` as ./erpsync.yaml and return the ConfigError's problem lines."""

    def _problems(text: str, env: dict[str, str] | None = None) -> list[str]:
        write(text)
        with pytest.raises(ConfigError) as caught:
            load_config(env=env or {})
        return caught.value.problems

    return _problems

"""CLI fixtures: a config on disk using the fake connector, and a runner that calls main()."""

import json
import textwrap
from dataclasses import dataclass

import pytest

from erpsync.cli import main
from tests.backends import fresh_postgres


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def run(capsys, monkeypatch):
    """Call the real entry point (error boundary included) and capture its output."""
    monkeypatch.delenv("ERPSYNC_CONFIG", raising=False)
    monkeypatch.delenv("ERPSYNC_DB", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")

    def invoke(*args):
        code = 0
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def workdir(tmp_path, monkeypatch, backend):
    """A folder with erpsync.yaml and products.csv; the database is store.db on SQLite, or a
    fresh schema on the PostgreSQL test server."""
    if backend == "sqlite":
        yield _workdir(tmp_path, monkeypatch, "sqlite:///store.db")
    else:
        with fresh_postgres() as url:
            yield _workdir(tmp_path, monkeypatch, url)


def _workdir(tmp_path, monkeypatch, database):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "products.csv").write_text(
        "sku,name,gtin,components\n"
        "SKU-A,Caneca,7891234567895,\n"
        "SKU-B,Camiseta,,\n"
        "KIT-AB,Kit,,SKU-A*2;SKU-B*1\n"
    )
    (tmp_path / "erpsync.yaml").write_text(
        textwrap.dedent(
            f"""\
            database: '{database}'
            stock:
              safety_stock: 1
            connectors:
              shop:
                type: tests.engine.fakes:FakeConnector
                initial_lookback_days: 36500
                options:
                  generate: 12
                  page_size: 5
            """
        )
    )
    return tmp_path

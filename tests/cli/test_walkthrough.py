"""The README's walkthrough, run as a seller runs it: its commands, in its order, as real
processes, from a folder other than the one holding the config, with its numbers asserted."""

import json
import re
import shutil
import subprocess
import sys

import pytest

from tests.cli.test_subprocess import ROOT, _env

README = ROOT / "README.md"
CONFIG = "config.example.yaml"

#: what push-stock --dry-run --explain plans after the walkthrough, per (connector, sku): the
#: stock counted in examples/stock.csv minus what the open (pending) orders reserve; orders
#: pulled before the catalogue existed count the same as orders pulled after it
PLAN = {
    ("loja-arquivos", "CAMISETA-M"): (22, "on hand 23 - reserved 1 - safety 0 = 22"),
    ("loja-arquivos", "CAMISETA-P"): (20, "on hand 20 - reserved 0 - safety 0 = 20"),
    ("loja-arquivos", "CANECA-01"): (26, "on hand 26 - reserved 0 - safety 0 = 26"),
    ("loja-arquivos", "KIT-CANECA-2"): (13, "kit min(CANECA-01: 26//2=13)"),
    ("ml-main", "CAM-PRETO-P"): (32, "on hand 32 - reserved 0 - safety 0 = 32"),
    ("ml-main", "CAM-PRETO-M"): (35, "on hand 35 - reserved 0 - safety 0 = 35"),
    ("ml-main", "CAM-BRANCO-G"): (37, "on hand 38 - reserved 1 - safety 0 = 37"),
    ("ml-main", "CAN-350"): (40, "on hand 41 - reserved 1 - safety 0 = 40"),
    ("ml-main", "GAR-1L"): (43, "on hand 44 - reserved 1 - safety 0 = 43"),
    ("amazon-br", "CAMISETA-M-AZUL"): (53, "on hand 53 - reserved 0 - safety 0 = 53"),
    ("amazon-br", "CAMISETA-P-AZUL"): (48, "on hand 50 - reserved 2 - safety 0 = 48"),
    ("amazon-br", "CANECA-AZUL"): (55, "on hand 56 - reserved 1 - safety 0 = 55"),
    ("amazon-br", "LUMINARIA/MESA 40cm"): (59, "on hand 59 - reserved 0 - safety 0 = 59"),
    ("amazon-br", "PANO-PRATO-KIT3"): (0, "on hand 0 - reserved 0 - safety 0 = 0"),
    ("magalu", "CABO-USB-C"): (77, "on hand 77 - reserved 0 - safety 0 = 77"),
    ("magalu", "CAMISETA-AZ-G"): (71, "on hand 71 - reserved 0 - safety 0 = 71"),
    ("magalu", "CAMISETA-AZ-M"): (68, "on hand 68 - reserved 0 - safety 0 = 68"),
    ("magalu", "CANECA-300"): (71, "on hand 74 - reserved 3 - safety 0 = 71"),
    ("magalu", "FONE-BT-01"): (80, "on hand 80 - reserved 0 - safety 0 = 80"),
    ("magalu", "LIVRO-PY-01"): (83, "on hand 83 - reserved 0 - safety 0 = 83"),
}


def readme_commands():
    """The walkthrough as the README writes it: the quickstart's pull, then "look around"."""
    quickstart = README.read_text(encoding="utf-8").split("## Quickstart", 1)[1]
    quickstart = quickstart.split("\n## ", 1)[0]
    first = re.search(r"erpsync -c config\.example\.yaml ([a-z-]+)\n", quickstart)
    around = quickstart.split("Then look around:", 1)[1]
    rest = re.findall(r"`(?:\.venv/bin/erpsync -c config\.example\.yaml|\.\.\.) ([^`]+)`", around)
    return [first[1], *rest]


@pytest.fixture
def project(tmp_path):
    """A copy of the repository's example (config + examples/), and an unrelated cwd."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / CONFIG, project / CONFIG)
    shutil.copytree(ROOT / "examples", project / "examples")
    (tmp_path / "elsewhere").mkdir()
    return project


def erpsync(project, command):
    """One walkthrough command, typed from ../elsewhere: file arguments are relative to it."""
    cwd = project.parent / "elsewhere"
    args = [f"../project/{a}" if a.startswith("examples/") else a for a in command.split()]
    env = _env()
    env.pop("ERPSYNC_EXAMPLE_DB", None)
    result = subprocess.run(
        [sys.executable, "-m", "erpsync", "-c", f"../project/{CONFIG}", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (command, result.stderr)
    return result


def plan(project):
    """(connector, sku) -> (new, explain): the walkthrough's last command, as JSON."""
    result = erpsync(project, "push-stock --dry-run --explain --json")
    return {
        (outcome["connector"], p["sku"]): (p["new"], p["explain"])
        for outcome in json.loads(result.stdout)
        for p in outcome["plan"]
    }


def test_the_readme_lists_the_walkthrough_this_test_runs():
    assert readme_commands() == [
        "pull-orders",
        "orders list",
        "status",
        "products import examples/products.csv",
        "stock import examples/stock.csv",
        "listings pull",
        "push-stock --dry-run --explain",
    ]


def test_the_readme_walkthrough_from_another_folder_gives_the_documented_numbers(project):
    """requirement: the README's order (orders before the catalogue) reserves and deducts as
    importing products first would; relative paths follow the config file, not the cwd."""
    results = [erpsync(project, command) for command in readme_commands()]
    # orders came before their products: status shows the parked lines, the import books them
    assert "connector\tsku\torders\tunits" in results[2].stdout
    assert "35 parked order line(s) booked, 11 not booked (their orders shipped before the " in (
        results[3].stderr
    )
    assert "CAMISETA-M" in results[-1].stdout
    assert "on hand 23 - reserved 1 - safety 0 = 22" in results[-1].stdout
    assert plan(project) == PLAN
    # everything the config names relatively lives beside the config, nothing in the cwd
    assert (project / "erpsync.db").is_file()
    assert list((project.parent / "elsewhere").iterdir()) == []
    # a real push writes into the config's outbox
    erpsync(project, "push-stock -C loja-arquivos")
    written = [p.name for p in (project / "examples/files/outbox").iterdir()]
    assert [n for n in written if n.startswith("stock-")] != []
    assert list((project.parent / "elsewhere").iterdir()) == []


def test_importing_the_catalogue_first_gives_the_same_numbers(project, run, monkeypatch):
    """requirement: the numbers do not depend on whether products come before the orders
    (in-process: the subprocess test above covers the real entry point)."""
    monkeypatch.chdir(project.parent / "elsewhere")
    monkeypatch.delenv("ERPSYNC_EXAMPLE_DB", raising=False)
    config = ("-c", f"../project/{CONFIG}")
    for command in (
        "products import ../project/examples/products.csv",
        "pull-orders",
        "stock import ../project/examples/stock.csv",
        "listings pull",
    ):
        assert run(*config, *command.split()).exit_code == 0, command
    result = run(*config, "push-stock", "--dry-run", "--explain", "--json")
    found = {
        (outcome["connector"], p["sku"]): (p["new"], p["explain"])
        for outcome in result.json()
        for p in outcome["plan"]
    }
    assert found == PLAN

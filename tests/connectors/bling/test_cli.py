"""`erpsync connectors authorize bling` and `connectors check bling` as real processes, against
the sandbox emulator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from erpsync.connectors.bling.emulator import BlingEmulator

ROOT = Path(__file__).resolve().parents[3]

CONFIG = """
database: sqlite:///erpsync.db
connectors:
  erp:
    type: bling
    sandbox: true
    credentials: {client_id: sandbox-bling-app, client_secret: sandbox-bling-secret}
    options: {loja_id: 204587412}
"""


def erpsync(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "erpsync", "-c", "erpsync.yaml", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
    )


def test_authorize_then_check(tmp_path):
    """requirement: without a refresh token, check says to authorise; authorize prints the
    consent URL, trades the pasted code for tokens and stores them; check then works (in a
    new process: the rotated tokens were persisted)."""
    (tmp_path / "erpsync.yaml").write_text(CONFIG, encoding="utf-8")
    before = erpsync("connectors", "check", "erp", cwd=tmp_path)
    assert before.returncode != 0
    assert "erpsync connectors authorize erp" in before.stdout + before.stderr
    assert "Traceback" not in before.stderr
    code = BlingEmulator().issue_authorization_code()  # what the consent redirect carries
    result = erpsync("connectors", "authorize", "erp", cwd=tmp_path, stdin=code + "\n")
    assert result.returncode == 0, result.stderr
    assert "https://www.bling.com.br/Api/v3/oauth/authorize?response_type=code" in result.stderr
    assert "erp: authorised (authorised with Bling; sales situações: Em aberto" in result.stderr
    assert code not in result.stdout + result.stderr
    after = erpsync("connectors", "check", "erp", cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    assert "authenticated with Bling" in after.stdout + after.stderr

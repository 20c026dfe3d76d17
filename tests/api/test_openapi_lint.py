"""Two OpenAPI linters nobody here wrote pass the document as the app serves it: Redocly CLI's recommended rules
(redocly.yaml) and Spectral's spectral:oas (.spectral.yaml), both pinned npm devDependencies (package.json) run
from node_modules/.bin. A rule either config turns off says there why; any other error or warning fails.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "node_modules" / ".bin"
# No telemetry and no update check: neither may reach for the network (and CI has none to offer them).
QUIET = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_UPDATE_NOTIFIER": "1"}


def _linter(name: str) -> Path:
    path = BIN / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: the linters are npm devDependencies (make setup-dev runs npm ci)")
    return path


@pytest.fixture
def document(client, tmp_path: Path) -> Path:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    path = tmp_path / "openapi.json"
    path.write_bytes(response.data)
    return path


def _run(command: list[str], output: Path | None = None) -> tuple[subprocess.CompletedProcess[str], Any]:
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, **QUIET}, check=False
    )
    report = output.read_text() if output is not None else result.stdout
    try:
        return result, json.loads(report)
    except ValueError:
        pytest.fail(f"{command[0]} gave no JSON report (exit {result.returncode}): {result.stdout}{result.stderr}")


def test_redocly_recommended_finds_nothing(document):
    redocly = _linter("redocly")
    result, report = _run([str(redocly), "lint", str(document), "--config", "redocly.yaml", "--format=json"])
    problems = [
        f"{p['severity']} {p['ruleId']}: {p['message']} at {p['location'][0]['pointer']}" for p in report["problems"]
    ]
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, problems
    assert result.returncode == 0, result.stderr


def test_spectral_oas_finds_nothing(document, tmp_path):
    spectral = _linter("spectral")
    output = tmp_path / "spectral.json"
    command = [str(spectral), "lint", str(document), "--ruleset", ".spectral.yaml", "--format", "json"]
    result, report = _run([*command, "--output", str(output), "--fail-severity", "hint"], output)
    assert [f"{r['code']}: {r['message']} at {'.'.join(map(str, r['path']))}" for r in report] == []
    assert result.returncode == 0, result.stdout + result.stderr

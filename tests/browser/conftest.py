"""A live ShopApp (tests/live.py: waitress on 127.0.0.1, one per session) driven by Debian's chromium
through Playwright. Tests keep their data apart by using names of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage

from tests.live import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (apt-get install -y chromium)")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    _require_chromium()
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    """pytest-playwright resolves ``page.goto("/...")`` against this."""
    _require_chromium()
    return live_server.url


@pytest.fixture(autouse=True)
def _no_server_errors(no_server_errors: None) -> None:
    """Every browser test fails if the server answered any request with a 5xx."""


@pytest.fixture(autouse=True)
def _no_csp_violations(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every browser context records what Chromium reports as a Content-Security-Policy violation."""
    violations: list[str] = []
    original = Browser.new_context

    def new_context(self: Browser, **kwargs: Any) -> BrowserContext:
        context = original(self, **kwargs)
        if not kwargs.get("bypass_csp"):
            context.on("console", lambda message: _record_csp(message, violations))
        return context

    monkeypatch.setattr(Browser, "new_context", new_context)
    yield
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


def _record_csp(message: ConsoleMessage, violations: list[str]) -> None:
    if "Content Security Policy" in message.text:
        violations.append(f"{message.location.get('url')}: {message.text}")

"""Slow clients cannot starve the app in the documented production layout (issue 12 item 5).

A gthread worker hands a connection to a thread as soon as its first bytes arrive, and the thread stays
with it until the whole request has been read: under the README's gunicorn command alone (2 workers, 4
threads each) 8 sockets sending one header line a second took every thread and /healthz stopped answering.
The README therefore puts nginx in front (deploy/nginx.conf), which reads whole requests before passing
them on. This test renders that very template (TLS with a throw-away certificate, free ports, its files in
tmp), starts nginx in front of the README's gunicorn command, opens 8 and then 32 slow sockets through it,
and meanwhile asks for /healthz and the catalog page every 0.2 s: every answer must come within 1 s.
Against the bare gunicorn command (checked once, 2026-12-01) 5 of 7 /healthz probes got no answer within
1 s with 8 slow clients, and 0 of 3 probes of either path with 32; through nginx all answer in 0.02 s.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.ops.serve import ROOT, free_port, gunicorn, production_env

pytestmark = pytest.mark.postgres_only

# The README's production command ("Production"), checked against the README below.
README_GUNICORN = ("--workers", "2", "--worker-class", "gthread", "--threads", "4", "--limit-request-line", "8190")
TEMPLATE = ROOT / "deploy" / "nginx.conf"
PATHS = ("/healthz", "/")
BOUND_S = 1.0
SLOW_FOR_S = 7.0  # below nginx's client_header_timeout (10 s): the slow sockets stay open all along


def nginx_executable() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def render(template: str, values: dict[str, str]) -> str:
    """What envsubst does with the README's variable list: ${SHOPAPP_…} filled in, nginx's $variables kept."""
    rendered = re.sub(r"\$\{(SHOPAPP_[A-Z_]+)\}", lambda m: values[m.group(1)], template)
    assert not [line for line in rendered.splitlines() if "${" in line.split("#", 1)[0]], "a variable is left"
    return rendered


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def layout(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """The README's layout on this host: nginx (deploy/nginx.conf) → gunicorn (the README's command)."""
    executable = nginx_executable()
    if executable is None:
        pytest.skip("nginx is not installed (scripts/ensure-nginx.sh; make setup-dev installs it)")
    readme = (ROOT / "README.md").read_text()
    assert " ".join(README_GUNICORN) in " ".join(readme.replace("\\\n", " ").split()), (
        "the README's gunicorn command changed: update README_GUNICORN"
    )
    env = production_env(database_url, tmp_path / "media") | {"PROXY_FIX_HOPS": "1"}
    with gunicorn(env, *README_GUNICORN) as [(app_url, _)]:
        state = tmp_path / "nginx"
        state.mkdir()
        cert, key = self_signed_certificate(tmp_path)
        port = free_port()
        config = state / "nginx.conf"
        config.write_text(
            render(
                TEMPLATE.read_text(),
                {
                    "SHOPAPP_NGINX_DIR": str(state),
                    "SHOPAPP_NGINX_USER": getpass.getuser(),
                    "SHOPAPP_HTTPS_LISTEN": f"127.0.0.1:{port}",
                    "SHOPAPP_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
                    "SHOPAPP_SERVER_NAME": "127.0.0.1",
                    "SHOPAPP_TLS_CERT": str(cert),
                    "SHOPAPP_TLS_KEY": str(key),
                    "SHOPAPP_MEDIA_ROOT": str(tmp_path / "media"),
                    "SHOPAPP_UPSTREAMS": f"server {app_url.removeprefix('http://')};",
                },
            )
        )
        command = [executable, "-c", str(config), "-p", str(state), "-g", "daemon off;"]
        proxy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"https://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    requests.get(f"{url}/healthz", timeout=2, verify=cert)
                    break
                except requests.ConnectionError:
                    if proxy.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError(f"nginx did not start: {proxy.stderr.read().decode()}") from None  # type: ignore[union-attr]
                    time.sleep(0.1)
            yield url, cert, tmp_path / "media"
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)


def slow_clients(count: int, connect: Callable[[], socket.socket], seconds: float) -> tuple[threading.Thread, list]:
    """``count`` sockets that send a request's headers one line a second for ``seconds``; errors collected."""
    errors: list[BaseException] = []

    def run() -> None:
        sockets = [connect() for _ in range(count)]
        try:
            for s in sockets:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            started = time.monotonic()
            line = 0
            while time.monotonic() - started < seconds:
                time.sleep(1)
                line += 1
                for s in sockets:
                    s.sendall(f"X-Slow-{line}: {'x' * 20}\r\n".encode())
        except OSError as error:  # the server gave up on a slow socket before the end
            errors.append(error)
        finally:
            for s in sockets:
                s.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def probe_while_slow(
    url: str, count: int, connect: Callable[[], socket.socket], verify: Path | bool = True
) -> dict[str, list[float | None]]:
    """Seconds each probe of PATHS took while ``count`` slow clients were at work (None: no answer in 1 s)."""
    thread, errors = slow_clients(count, connect, SLOW_FOR_S)
    time.sleep(0.5)  # every slow socket connected and sent its first lines
    timings: dict[str, list[float | None]] = {path: [] for path in PATHS}
    while thread.is_alive():
        for path in PATHS:
            started = time.monotonic()
            try:
                status = requests.get(url + path, timeout=BOUND_S, verify=verify).status_code
                timings[path].append(time.monotonic() - started if status == 200 else None)
            except requests.RequestException:
                timings[path].append(None)
        time.sleep(0.2)
    thread.join()
    assert not errors, f"a slow socket was cut off early: {errors[0]!r}"
    return timings


def summary(count: int, timings: dict[str, list[float | None]]) -> str:
    parts = []
    for path, taken in timings.items():
        answered = [t for t in taken if t is not None]
        worst = f"max {max(answered):.3f} s, median {statistics.median(answered):.3f} s" if answered else "none"
        parts.append(f"{path}: {len(answered)}/{len(taken)} answered within {BOUND_S:.0f} s ({worst})")
    return f"{count} slow clients for {SLOW_FOR_S:.0f} s — " + "; ".join(parts)


def test_slow_clients_do_not_starve_the_app_behind_the_documented_proxy(layout):
    url, cert, _ = layout
    context = ssl.create_default_context(cafile=str(cert))

    def connect() -> socket.socket:
        return context.wrap_socket(socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1]))),
                                   server_hostname="127.0.0.1")  # fmt: skip

    for count in (8, 32):
        timings = probe_while_slow(url, count, connect, verify=cert)
        print(summary(count, timings))
        for taken in timings.values():
            assert len(taken) >= 10 and None not in taken, summary(count, timings)


def test_the_documented_proxy_serves_media_from_disk_with_the_apps_headers(layout):
    """The rest of deploy/nginx.conf: /media/ straight from MEDIA_ROOT, headers as the app gives them."""
    url, cert, media = layout
    (media / "ab").mkdir(parents=True, exist_ok=True)
    (media / "ab" / "ab12-small.webp").write_bytes(b"RIFF\x00\x00\x00\x00WEBP")
    image = requests.get(f"{url}/media/ab/ab12-small.webp", timeout=5, verify=cert)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/webp"
    assert image.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert requests.get(f"{url}/media/ab/missing.webp", timeout=5, verify=cert).status_code == 404


def test_the_documented_proxy_compresses_text(layout):
    """gzip in deploy/nginx.conf: the catalog page and the stylesheet come back compressed to a client that
    accepts it (requests decodes them) and as they are to one that does not."""
    url, cert, _ = layout
    for path, kind in (("/", "text/html"), ("/static/css/app.css", "text/css")):
        packed = requests.get(url + path, headers={"Accept-Encoding": "gzip"}, timeout=5, verify=cert)
        assert packed.status_code == 200 and packed.headers["Content-Type"].startswith(kind), path
        assert packed.headers.get("Content-Encoding") == "gzip", (path, packed.headers)
        assert "Accept-Encoding" in packed.headers["Vary"], path
        plain = requests.get(url + path, headers={"Accept-Encoding": "identity"}, timeout=5, verify=cert)
        assert "Content-Encoding" not in plain.headers, path
        assert len(plain.content) > 1024 and plain.content[:200] == packed.content[:200], path

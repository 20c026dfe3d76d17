"""Checkout under load: 32 buyers add 3 products from 2 shops and check out, against a bare Flask app in the same run.

Run: .venv/bin/python bench/checkout.py [--products 1000000] [--buyers 32] [--duration 20]
(or ``.venv/bin/python bench/run.py --checkout``, which runs this with run.py's ``--sizes`` and ``--duration``).

It makes (or reuses) the PostgreSQL database ``<BENCH_DATABASE_PREFIX>_<products>`` of bench/generate.py
(migrated to the current schema on every run), gives a pool of products of ``--shops`` shops plenty of stock
(1 000 000 units each: no buyer is refused for stock, so every answer must be a success), serves ShopApp with
production settings, the shared cache on, under run.py's gunicorn settings (2 gthread workers x 4 threads),
and the bare app (bench/bare_app.py, ``SELECT 1``) under the same settings, and loads both with the same load
client. Phases, each a 2 s warm-up and then ``--duration`` seconds:

1. the bare app, ``GET /`` on every connection (before ShopApp);
2. checkout: each buyer (an account registered and logged in through the API up front, one bearer token and one
   keep-alive connection each) repeatedly puts 3 products in its cart (``PUT /api/v1/cart/items/{id}``: two
   from one shop, one from another, 1-3 units each, chosen at random from the pool) and sends
   ``POST /api/v1/checkout`` with a shipping address and an ``Idempotency-Key`` (as a client that retries would);
   the checkout must answer 201 with one order per shop;
3. the cart page (``GET /cart``) for signed-in customers: every buyer logs in through the login form (CSRF token
   and session cookie, as a browser does) and reads its cart of 3 products from 2 shops; if the app has no cart
   page yet, ``GET /api/v1/cart`` with the token instead, and the table says so. ``GET /api/v1/cart`` is measured
   in any case;
4. the bare app again (after ShopApp), so that a change in what else the machine runs shows as a drift between
   the two bare figures; ratios are to their mean.

Any answer that is not the expected success is an error, and the run fails (exit 1) on any error or a failed
oversell check; a target missed is printed as MISS, as in run.py. At the end the
oversell check: for each product of the pool, the stock it had before the run minus its stock after equals the
units in the order lines this run made, every checkout answered 201 made exactly one order per shop it named,
and no product in the database has a stock below 0.

The load client is this process: one thread per connection speaking HTTP/1.1 keep-alive on plain sockets
(pre-built request bytes, headers parsed only for Content-Length and Set-Cookie), the same for every phase. It
competes with gunicorn and PostgreSQL for the machine's cores; the table gives, per phase, the CPU seconds
that the client, the app's workers and the database backends used, and what the rest of the machine (other
programs) took, from /proc. It also gives the app's and the database's CPU per request (per sequence for the
checkouts) and the bare app's CPU per request over that: the throughput ratio the server would reach with the
cores to itself and a free client, steadier than the measured ratio on a machine that others share. When wrk
is installed, the bare app and the cart page (one customer's session cookie on every connection) are loaded
with wrk too, as a check on this client.

Environment: ``BENCH_DATABASE_BASE`` (postgresql://postgres@127.0.0.1:5432), ``BENCH_DATABASE_PREFIX``
(shopapp_bench), ``BENCH_REDIS_URL`` (redis://127.0.0.1:6379/14: the limiter's store and the shared cache,
flushed first). The limits per client address are lifted for the app under test (every buyer comes from
127.0.0.1, where in production they would come from 32 addresses).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import plain_url  # noqa: E402
from bench.run import REDIS_URL, WARM_UP_S, gunicorn_args, gunicorn_process, prepare, production_env, wrk  # noqa: E402

POOL_STOCK = 1_000_000  # units of each pool product: far more than a run sells
PASSWORD = "bench-buyer-password"  # noqa: S105 - throwaway accounts of a benchmark database
ADDRESS = {"name": "Bench Buyer", "line1": "1 Load Street", "city": "Benchton", "postal_code": "10115", "country": "DE"}
CHECKOUT_P99_TARGET_MS = 250  # issue 15
CART_PAGE_TARGET = 0.3  # x bare (issue 15)
CSRF = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


# ---------------------------------------------------------------------------------------------------- client
class HTTPError(Exception):
    pass


@dataclass
class Response:
    status: int
    body: bytes
    cookies: dict[str, str]

    def json(self) -> object:
        return json.loads(self.body)


class Connection:
    """One keep-alive HTTP/1.1 connection; cheap on the client's CPU (the client shares the cores)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.sock: socket.socket | None = None
        self.cookies: dict[str, str] = {}

    def _open(self) -> None:
        self.close()
        self.sock = socket.create_connection((self.host, self.port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb", buffering=65536)

    def close(self) -> None:
        if self.sock is not None:
            self.reader.close()
            self.sock.close()
            self.sock = None

    def prepared(self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    def send(self, raw: bytes) -> Response:
        for attempt in (1, 2):  # a keep-alive connection the server closed while idle: open a new one, once
            if self.sock is None:
                self._open()
            assert self.sock is not None
            try:
                self.sock.sendall(raw)
                return self._read()
            except (ConnectionError, HTTPError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _read(self) -> Response:
        status_line = self.reader.readline()
        if not status_line:
            raise HTTPError("connection closed")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, close = 0, False, False
        cookies: dict[str, str] = {}
        while True:
            line = self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
            elif name == b"set-cookie":
                pair = value.decode("latin-1").split(";", 1)[0].strip()
                key, _, val = pair.partition("=")
                cookies[key] = val
        if chunked:
            body = b""
            while size := int(self.reader.readline().split(b";")[0], 16):
                body += self.reader.read(size)
                self.reader.readline()
            while self.reader.readline() not in (b"\r\n", b""):
                pass
        else:
            body = self.reader.read(length)
        for key, val in cookies.items():
            if val:
                self.cookies[key] = val
            else:
                self.cookies.pop(key, None)
        if close:
            self.close()
        return Response(status, body, cookies)

    def request(
        self, method: str, path: str, payload: object = None, headers: dict[str, str] | None = None
    ) -> Response:
        body = b"" if payload is None else json.dumps(payload).encode()
        hdrs = {**({"Content-Type": "application/json"} if payload is not None else {}), **(headers or {})}
        return self.send(self.prepared(method, path, hdrs, body))


def expect(response: Response, status: int, what: str) -> Response:
    if response.status != status:
        raise HTTPError(f"{what}: {response.status} (expected {status}): {response.body[:300]!r}")
    return response


# ------------------------------------------------------------------------------------------------ measuring
@dataclass
class Phase:
    """What the threads of one phase recorded: latencies (s) per kind, errors by message."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    wrk: dict[str, float] | None = None  # the same address loaded by wrk too, when it is installed

    def record(self, local: dict[str, list[float]], errors: Counter[str]) -> None:
        with self.lock:
            for kind, values in local.items():
                self.latencies.setdefault(kind, []).extend(values)
            self.errors.update(errors)

    def rate(self, kind: str) -> float:
        return len(self.latencies.get(kind, [])) / self.seconds

    def pct(self, kind: str, q: float) -> float:
        values = sorted(self.latencies.get(kind, []))
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(q * len(values)))] * 1000


def cpu_ticks(pids: list[int]) -> float:
    """CPU seconds (user + system) the live processes ``pids`` have used."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds every core of the machine has spent busy since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.append(int(entry.name))
            except (OSError, IndexError):
                continue
    return pids


def backend_pids(database_url: str) -> list[int]:
    name = plain_url(database_url).rsplit("/", 1)[1]
    with psycopg.connect(plain_url(database_url)) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
        ).fetchall()
    return [row[0] for row in rows]


@dataclass
class Server:
    url: str
    pgid: int
    database_url: str


def snapshot(server: Server) -> dict[str, float]:
    return {
        "client": sum(os.times()[:2]),
        "app": cpu_ticks(group_pids(server.pgid)),
        "database": cpu_ticks(backend_pids(server.database_url)),
        "machine": machine_busy(),
    }


def run_phase(server: Server, duration: int, workers: list[Callable[[Callable[[], bool], Phase], None]]) -> Phase:
    """Run every worker in its own thread: a warm-up, then ``duration`` seconds measured."""
    _timed(server, WARM_UP_S, workers, measured=False)
    return _timed(server, duration, workers, measured=True)


def _timed(
    server: Server, seconds: float, workers: list[Callable[[Callable[[], bool], Phase], None]], *, measured: bool
) -> Phase:
    phase = Phase()
    start = threading.Barrier(len(workers) + 1)
    stop_at = [0.0]

    def running() -> bool:
        return time.perf_counter() < stop_at[0]

    def body(work: Callable[[Callable[[], bool], Phase], None]) -> None:
        start.wait()
        work(running, phase)

    threads = [threading.Thread(target=body, args=(w,), daemon=True) for w in workers]
    for t in threads:
        t.start()
    before = snapshot(server) if measured else {}
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start.wait()
    for t in threads:
        t.join()
    phase.seconds = time.perf_counter() - began
    if measured:
        after = snapshot(server)
        phase.cpu = {k: after[k] - before[k] for k in before}
    return phase


def getter(conn: Connection, raw: bytes, kind: str) -> Callable[[Callable[[], bool], Phase], None]:
    """A worker that sends the same GET over and over, expecting 200."""

    def work(running: Callable[[], bool], phase: Phase) -> None:
        times: list[float] = []
        errors: Counter[str] = Counter()
        while running():
            t0 = time.perf_counter()
            try:
                r = conn.send(raw)
                if r.status != 200:
                    errors[f"{kind}: {r.status} {r.body[:120]!r}"] += 1
                    continue
            except (OSError, HTTPError) as exc:
                errors[f"{kind}: {exc}"] += 1
                conn.close()
                continue
            times.append(time.perf_counter() - t0)
        phase.record({kind: times}, errors)

    return work


# ------------------------------------------------------------------------------------------------- the shop
@dataclass
class Pool:
    by_shop: dict[int, list[int]]
    initial_stock: dict[int, int]
    last_order_item: int
    last_order: int


def prepare_pool(database_url: str, shops: int, per_shop: int) -> Pool:
    """Give ``per_shop`` live products of each of ``shops`` shops plenty of stock; note where the run starts."""
    with psycopg.connect(plain_url(database_url)) as conn:
        rows = conn.execute(
            "SELECT p.id, s.id FROM shops s CROSS JOIN LATERAL (SELECT id FROM products WHERE shop_id = s.id "
            "AND deleted_at IS NULL ORDER BY id LIMIT %s) p WHERE s.deleted_at IS NULL ORDER BY s.id, p.id LIMIT %s",
            (per_shop, shops * per_shop),
        ).fetchall()
        by_shop: dict[int, list[int]] = {}
        for product_id, shop_id in rows:
            by_shop.setdefault(shop_id, []).append(product_id)
        ids = [r[0] for r in rows]
        conn.execute(
            "UPDATE products SET stock = %s, is_active = true WHERE id = ANY(%s) AND (stock < %s OR NOT is_active)",
            (POOL_STOCK, ids, POOL_STOCK // 2),
        )
        stock: dict[int, int] = dict(
            conn.execute("SELECT id, stock FROM products WHERE id = ANY(%s)", (ids,)).fetchall()
        )
        last_item = conn.execute("SELECT coalesce(max(id), 0) FROM order_items").fetchone()[0]  # type: ignore[index]
        last_order = conn.execute("SELECT coalesce(max(id), 0) FROM orders").fetchone()[0]  # type: ignore[index]
        conn.commit()
    if len(by_shop) < 2:
        raise SystemExit("the database has fewer than 2 shops with products")
    return Pool(by_shop, stock, last_item, last_order)


def oversell_check(database_url: str, pool: Pool, placed_orders: int) -> list[str]:
    """What is wrong with the stock after the run (empty: nothing)."""
    problems = []
    ids = list(pool.initial_stock)
    with psycopg.connect(plain_url(database_url)) as conn:
        final: dict[int, int] = dict(
            conn.execute("SELECT id, stock FROM products WHERE id = ANY(%s)", (ids,)).fetchall()
        )
        sold: dict[int, int] = dict(
            conn.execute(
                "SELECT product_id, sum(quantity) FROM order_items WHERE id > %s GROUP BY product_id",
                (pool.last_order_item,),
            ).fetchall()
        )
        orders = conn.execute("SELECT count(*) FROM orders WHERE id > %s", (pool.last_order,)).fetchone()[0]  # type: ignore[index]
        negative = conn.execute("SELECT count(*) FROM products WHERE stock < 0").fetchone()[0]  # type: ignore[index]
    for product_id in ids:
        taken = pool.initial_stock[product_id] - final[product_id]
        if taken != sold.get(product_id, 0):
            problems.append(f"product {product_id}: stock fell by {taken}, order lines hold {sold.get(product_id, 0)}")
    strays = set(sold) - set(ids)
    if strays:
        problems.append(f"order lines for products outside the pool: {sorted(strays)[:10]}")
    if orders != placed_orders:
        problems.append(f"{orders} orders in the database, {placed_orders} in the 201 answers")
    if negative:
        problems.append(f"{negative} products have a stock below 0")
    return problems


@dataclass
class Buyer:
    email: str
    token: str
    api: Connection
    rng: random.Random


def pick_lines(pool: Pool, rng: random.Random) -> list[tuple[int, int]]:
    """3 products from 2 shops (2 + 1), 1-3 units each."""
    first, second = rng.sample(sorted(pool.by_shop), 2)
    products = [*rng.sample(pool.by_shop[first], 2), rng.choice(pool.by_shop[second])]
    return [(product_id, rng.randint(1, 3)) for product_id in products]


def make_buyers(base: str, count: int, run_id: str) -> list[Buyer]:
    """Register and log in ``count`` buyers through the API (a few threads: argon2 is the cost), carts emptied."""
    buyers: list[Buyer | None] = [None] * count

    def one(i: int) -> None:
        conn = Connection(base)
        email = f"buyer{i}-{run_id}@bench.example"
        user = {"email": email, "password": PASSWORD, "name": f"Buyer {i}"}
        expect(conn.request("POST", "/api/v1/users/register", user), 201, "register")
        credentials = {"email": email, "password": PASSWORD}
        login = expect(conn.request("POST", "/api/v1/users/login", credentials), 200, "login")
        token = login.json()["access_token"]  # type: ignore[index]
        expect(conn.request("DELETE", "/api/v1/cart", headers={"Authorization": f"Bearer {token}"}), 204, "empty cart")
        buyers[i] = Buyer(email, token, conn, random.Random(i))

    for_each(range(count), one, threads=4)
    return [b for b in buyers if b is not None]


def for_each(items: range | list[Buyer], work: Callable[[Any], None], threads: int) -> None:
    failures: list[BaseException] = []
    queue = list(items)
    lock = threading.Lock()

    def loop() -> None:
        while True:
            with lock:
                if not queue or failures:
                    return
                item = queue.pop()
            try:
                work(item)
            except BaseException as exc:  # reported below
                with lock:
                    failures.append(exc)

    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if failures:
        raise failures[0]


def checkout_worker(buyer: Buyer, pool: Pool, placed: list[int]) -> Callable[[Callable[[], bool], Phase], None]:
    auth = {"Authorization": f"Bearer {buyer.token}"}

    def work(running: Callable[[], bool], phase: Phase) -> None:
        conn, rng = buyer.api, buyer.rng
        local: dict[str, list[float]] = {"put": [], "checkout": [], "sequence": []}
        errors: Counter[str] = Counter()
        orders = 0
        while running():
            lines = pick_lines(pool, rng)
            t0 = time.perf_counter()
            try:
                for product_id, quantity in lines:
                    t = time.perf_counter()
                    r = conn.request("PUT", f"/api/v1/cart/items/{product_id}", {"quantity": quantity}, auth)
                    if r.status != 200:
                        raise HTTPError(f"PUT cart item: {r.status} {r.body[:160]!r}")
                    local["put"].append(time.perf_counter() - t)
                t = time.perf_counter()
                r = conn.request(
                    "POST",
                    "/api/v1/checkout",
                    {"shipping_address": ADDRESS},
                    {**auth, "Idempotency-Key": uuid.uuid4().hex},
                )
                if r.status != 201:
                    raise HTTPError(f"checkout: {r.status} {r.body[:160]!r}")
                done = time.perf_counter()
                local["checkout"].append(done - t)
                local["sequence"].append(done - t0)
                body = r.json()
                assert isinstance(body, dict)
                if len(body["orders"]) != 2:
                    raise HTTPError(f"checkout: {len(body['orders'])} orders for 2 shops")
                orders += len(body["orders"])
            except (OSError, HTTPError, ValueError, KeyError) as exc:
                errors[str(exc)[:200]] += 1
                conn.close()
                try:  # the next sequence starts from an empty cart
                    conn.request("DELETE", "/api/v1/cart", headers=auth)
                except (OSError, HTTPError):
                    conn.close()
        phase.record(local, errors)
        with phase.lock:
            placed.append(orders)

    return work


def page_login(base: str, email: str) -> Connection:
    """Log in through the login form as a browser does: GET it for the CSRF token and cookie, POST it."""
    conn = Connection(base)
    form = expect(conn.request("GET", "/login"), 200, "login page")
    match = CSRF.search(form.body)
    if not match:
        raise HTTPError("no csrf_token on the login page")
    token = (match.group(1) or match.group(2)).decode()
    body = urlencode({"csrf_token": token, "email": email, "password": PASSWORD, "next": ""}).encode()
    raw = conn.prepared("POST", "/login", {"Content-Type": "application/x-www-form-urlencoded"}, body)
    expect(conn.send(raw), 302, "login form")
    return conn


# ---------------------------------------------------------------------------------------------------- a run
def bare_phase(env: dict[str, str], connections: int, duration: int, database_url: str) -> Phase:
    with serve("bench.bare_app:app", env, connections, database_url) as server:
        conns = [Connection(server.url) for _ in range(connections)]
        workers = [getter(c, c.prepared("GET", "/"), "GET /") for c in conns]
        phase = run_phase(server, duration, workers)
        for c in conns:
            c.close()
        if shutil.which("wrk"):
            phase.wrk = wrk(f"{server.url}/", duration, connections)
    return phase


@contextmanager
def serve(app: str, env: dict[str, str], connections: int, database_url: str) -> Iterator[Server]:
    with gunicorn_process(app, env, connections) as (url, proc):
        yield Server(url, proc.pid, database_url)


@dataclass
class Results:
    size: int
    buyers: int
    duration: int
    bare_before: Phase
    bare_after: Phase
    checkout: Phase
    cart_page: Phase | None
    cart_api: Phase
    problems: list[str]


def measure(size: int, buyers: int, duration: int, shops: int, per_shop: int) -> Results:
    database_url = prepare(size)
    pool = prepare_pool(database_url, shops, per_shop)
    run_id = secrets.token_hex(4)
    with tempfile.TemporaryDirectory() as media:
        env = {
            **production_env(database_url, media),
            # One client address stands for 32 customers here.
            "RATELIMIT_LOGIN": "",
            "RATELIMIT_REGISTER": "",
            "RATELIMIT_WRITE": "",
            "RATELIMIT_SEARCH": "",
        }
        bare_before = bare_phase(env, buyers, duration, database_url)
        redis.Redis.from_url(REDIS_URL).flushdb()
        with serve("wsgi:app", {**env, "CACHE_URL": REDIS_URL}, buyers, database_url) as server:
            people = make_buyers(server.url, buyers, run_id)
            placed: list[int] = []
            checkout = run_phase(server, duration, [checkout_worker(b, pool, placed) for b in people])
            problems = oversell_check(database_url, pool, sum(placed))

            # The carts read below: 3 products from 2 shops each, left in the cart.
            def fill(buyer: Buyer) -> None:
                auth = {"Authorization": f"Bearer {buyer.token}"}
                buyer.api.close()
                expect(buyer.api.request("DELETE", "/api/v1/cart", headers=auth), 204, "empty cart")
                for product_id, quantity in pick_lines(pool, buyer.rng):
                    r = buyer.api.request("PUT", f"/api/v1/cart/items/{product_id}", {"quantity": quantity}, auth)
                    expect(r, 200, "PUT cart item")

            for_each(people, fill, threads=4)
            api_workers = [
                getter(b.api, b.api.prepared("GET", "/api/v1/cart", {"Authorization": f"Bearer {b.token}"}), "cart api")
                for b in people
            ]
            cart_api = run_phase(server, duration, api_workers)
            probe = Connection(server.url)
            cart_page: Phase | None = None
            if probe.request("GET", "/cart").status != 404:
                sessions: list[Connection] = []
                lock = threading.Lock()

                def login(buyer: Buyer) -> None:
                    conn = page_login(server.url, buyer.email)
                    page = expect(conn.request("GET", "/cart"), 200, "cart page")
                    if b"Bench Shop" not in page.body:
                        raise HTTPError("the cart page does not show the cart's products")
                    with lock:
                        sessions.append(conn)

                for_each(people, login, threads=4)
                page_workers = [getter(c, c.prepared("GET", "/cart"), "cart page") for c in sessions]
                cart_page = run_phase(server, duration, page_workers)
                if shutil.which("wrk"):
                    cookie = "; ".join(f"{k}={v}" for k, v in sessions[0].cookies.items())
                    cart_page.wrk = wrk(f"{server.url}/cart", duration, buyers, {"Cookie": cookie})
                for c in sessions:
                    c.close()
            probe.close()
            for b in people:
                b.api.request("DELETE", "/api/v1/cart", headers={"Authorization": f"Bearer {b.token}"})
                b.api.close()
        bare_after = bare_phase(env, buyers, duration, database_url)
    return Results(size, buyers, duration, bare_before, bare_after, checkout, cart_page, cart_api, problems)


def cpu_per(phase: Phase, kind: str) -> float:
    """The app's and the database's CPU seconds per unit of ``kind`` in ``phase``."""
    return (phase.cpu["app"] + phase.cpu["database"]) / (len(phase.latencies.get(kind, [])) or 1)


def cpu_line(label: str, phase: Phase, kind: str, bare_cpu: float) -> str:
    """CPU seconds of the phase by whom; the app's and database's CPU per unit of ``kind``, and the bare app's
    CPU per request over it: the ratio to the bare app if the server had the cores to itself."""
    c = phase.cpu
    ours = c["client"] + c["app"] + c["database"]
    others = max(0.0, c["machine"] - ours)
    units = len(phase.latencies.get(kind, [])) or 1
    per = cpu_per(phase, kind)
    return (
        f"  {label:<18}{c['client']:>7.1f}{c['app']:>7.1f}{c['database']:>9.1f}{others:>8.1f}"
        f"{c['machine'] / phase.seconds:>7.2f}{c['app'] / units * 1000:>9.2f}{c['database'] / units * 1000:>9.2f}"
        f"{bare_cpu / per:>9.3f}"
    )


def verdict(met: bool) -> str:
    return "OK" if met else "MISS"


def line(label: str, per_s: float, p50: float, p99: float, ratio: float, target: str = "") -> str:
    return f"{label:<44}{per_s:>9.1f}{p50:>9.1f}{p99:>9.1f}{ratio:>8.2f}  {target}"


def report(r: Results) -> bool:
    """Print the table; True when there was no error and the oversell check passed (targets: OK or MISS)."""
    bare = statistics.mean([r.bare_before.rate("GET /"), r.bare_after.rate("GET /")])
    args = " ".join(gunicorn_args(r.buyers))
    print(f"\n{r.size:,} products — gunicorn {args}, {r.buyers} buyers/connections, {r.duration}s each phase")
    print(f"{'scenario':<44}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}{'x bare':>8}  target")

    def row(label: str, phase: Phase, kind: str, target: str = "") -> None:
        per_s = phase.rate(kind)
        print(line(label, per_s, phase.pct(kind, 0.5), phase.pct(kind, 0.99), per_s / bare, target))

    row("bare app GET / (before)", r.bare_before, "GET /")
    row("bare app GET / (after)", r.bare_after, "GET /")
    c = r.checkout
    p99 = c.pct("checkout", 0.99)
    row("checkouts (3 PUT + POST /checkout)", c, "sequence")
    row(
        "  POST /api/v1/checkout",
        c,
        "checkout",
        f"p99 < {CHECKOUT_P99_TARGET_MS} ms: {verdict(p99 < CHECKOUT_P99_TARGET_MS)}",
    )
    row("  PUT /api/v1/cart/items/{id}", c, "put")
    requests = c.rate("put") + c.rate("checkout")
    print(f"{'  all checkout-phase requests':<44}{requests:>9.1f}{'':>18}{requests / bare:>8.2f}")
    row("GET /api/v1/cart (bearer token)", r.cart_api, "cart api")
    if r.cart_page is not None:
        ratio = r.cart_page.rate("cart page") / bare
        row(
            "GET /cart (page, session cookie)",
            r.cart_page,
            "cart page",
            f">= {CART_PAGE_TARGET}: {verdict(ratio >= CART_PAGE_TARGET)}",
        )
    else:
        print("GET /cart: the app has no cart page yet (404); GET /api/v1/cart above stands for it")
    if r.bare_before.wrk and r.bare_after.wrk:
        wrk_bare = statistics.mean([r.bare_before.wrk["rps"], r.bare_after.wrk["rps"]])
        print(f"the same with wrk as the client ({r.buyers} connections):")
        for label, f in (("bare app GET / (before)", r.bare_before.wrk), ("bare app GET / (after)", r.bare_after.wrk)):
            print(line(label, f["rps"], f["p50"], f["p99"], f["rps"] / wrk_bare))
        if r.cart_page is not None and r.cart_page.wrk:
            f = r.cart_page.wrk
            ratio = f["rps"] / wrk_bare
            target = f">= {CART_PAGE_TARGET}: {verdict(ratio >= CART_PAGE_TARGET)}"
            print(line("GET /cart (one customer's session)", f["rps"], f["p50"], f["p99"], ratio, target))
    bare_cpu = statistics.mean([cpu_per(r.bare_before, "GET /"), cpu_per(r.bare_after, "GET /")])
    print("CPU seconds in each measured phase (client: this load generator; others: the rest of the machine),")
    print("the app's and the database's CPU ms per unit, and the bare app's CPU per request over that:")
    print(
        f"  {'phase':<18}{'client':>7}{'app':>7}{'database':>9}{'others':>8}{'cores':>7}{'app ms':>9}{'db ms':>9}"
        f"{'x bare':>9}"
    )
    print(cpu_line("bare app (before)", r.bare_before, "GET /", bare_cpu))
    print(cpu_line("checkout sequence", c, "sequence", bare_cpu))
    print(cpu_line("GET /api/v1/cart", r.cart_api, "cart api", bare_cpu))
    if r.cart_page is not None:
        print(cpu_line("GET /cart", r.cart_page, "cart page", bare_cpu))
    print(cpu_line("bare app (after)", r.bare_after, "GET /", bare_cpu))
    phases = [r.bare_before, c, r.cart_api, r.bare_after] + ([r.cart_page] if r.cart_page else [])
    errors: Counter[str] = Counter()
    for phase in phases:
        errors.update(phase.errors)
    checkouts = len(c.latencies.get("checkout", []))
    print(f"checkouts measured: {checkouts}; errors: {sum(errors.values())}")
    for message, count in errors.most_common(10):
        print(f"  {count} x {message}")
    if r.problems:
        print("oversell check: FAILED")
        for problem in r.problems:
            print(f"  {problem}")
    else:
        print(
            "oversell check: OK (stock taken == units in the run's order lines, for every pool product; "
            "one order per shop per checkout; no stock below 0)"
        )
    sys.stdout.flush()
    return not errors and not r.problems


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", "--sizes", dest="sizes", default="1000000", help="catalog sizes, comma-separated")
    parser.add_argument("--buyers", type=int, default=32)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--shops", type=int, default=20, help="shops whose products the buyers buy")
    parser.add_argument("--per-shop", type=int, default=10, help="products of each of those shops in the pool")
    args = parser.parse_args(argv)
    ok = True
    for size in (int(s) for s in args.sizes.split(",")):
        ok &= report(measure(size, args.buyers, args.duration, args.shops, args.per_shop))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()

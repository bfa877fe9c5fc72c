"""Registrations per second over real HTTP, beside a trivial endpoint of the same server.

Run from the project root:

    .venv/bin/python bench/http.py [--requests N] [--clients 1,16] [--store postgres|sqlite]

Starts `python -m petitions serve` in its own process (so the load generator does not share its
GIL) on a fresh store: a new schema in the PostgreSQL database `test` at 127.0.0.1:5432 (dropped
afterwards), or a temporary SQLite data directory; both with a cipher key, production mode and
JSON request logs, as production runs. Seeds it with `petitions init` and the admin API, then,
for each number of concurrent clients (threads, one httpx.Client each), sends N requests to
GET /healthz and N registrations, in alternating blocks, (POST /api/v1/petitions with a valid body and an
Idempotency-Key), and prints requests per second, p50 and p99 latency, and the ratio
registration rate / trivial rate (target >= 0.5). A script, not a test: exit 0 unless something
breaks; without a PostgreSQL server it says so and exits 0.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's `http` package: run as a script, its directory
# comes first on sys.path and would shadow that package for httpx. Put the project root there.
ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import argparse  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
import psycopg  # noqa: E402
from eventsourcing.cryptography import AESCipher  # noqa: E402

from domain.validation import make_id_number  # noqa: E402

TARGET = 0.5
PG: dict[str, Any] = {"host": "127.0.0.1", "port": 5432, "dbname": "test", "user": "postgres"}
PASSWORD = "bench-password-1"
ID_NUMBERS = [make_id_number(f"43052919{60 + i:02d}0{1 + i % 9}1{i % 10}00{i % 10}") for i in range(20)]


@dataclass
class Phase:
    """One measured run: an endpoint at a number of concurrent clients."""

    clients: int
    endpoint: str
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return (len(self.latencies) - self.errors) / self.seconds

    def percentile(self, p: float) -> float:
        """Latency at percentile `p`, in milliseconds."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def store(kind: str) -> Iterator[dict[str, str]]:
    """The server's environment on a fresh store; the store is removed afterwards."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-http-"))
    env = {"PETITIONS_STORE": kind, "PETITIONS_DATA_DIR": str(data_dir),
           "PETITIONS_CIPHER_KEY": AESCipher.create_key(32),
           "PETITIONS_TOKEN_SECRET": secrets.token_urlsafe(48), "PETITIONS_MODE": "production",
           "PETITIONS_LOG_FORMAT": "json"}
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    if kind == "postgres":
        with psycopg.connect(**PG, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        env |= {"PETITIONS_POSTGRES_HOST": PG["host"], "PETITIONS_POSTGRES_PORT": str(PG["port"]),
                "PETITIONS_POSTGRES_DBNAME": PG["dbname"], "PETITIONS_POSTGRES_USER": PG["user"],
                "PETITIONS_POSTGRES_SCHEMA": schema}
    try:
        yield env
    finally:
        if kind == "postgres":
            with psycopg.connect(**PG, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def server(env: dict[str, str], log: Path) -> Iterator[str]:
    """`petitions init`, then `petitions serve` in its own process; yields the base URL."""
    full = {**os.environ, **env}
    init = subprocess.run([sys.executable, "-m", "petitions", "init"], input=PASSWORD + "\n",
                          env=full, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    if init.returncode != 0:
        raise RuntimeError(f"petitions init failed: {init.stdout}{init.stderr}")
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "petitions", "serve", "--port", str(port)],
            env=full, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {log}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def login(client: httpx.Client, username: str) -> dict[str, str]:
    """Authorization headers for a user."""
    answer = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def seed(base: str) -> dict[str, str]:
    """A township, a village and a reception clerk, made through the admin API; the clerk's headers."""
    with httpx.Client(base_url=base, timeout=30) as client:
        admin = login(client, "admin")
        for code, level, parent in (("town1", "township", "county"), ("town1.v1", "village", "town1")):
            client.post("/api/v1/units", json={"code": code, "name": code, "level": level,
                                               "parent": parent}, headers=admin).raise_for_status()
        client.post("/api/v1/users", json={"username": "reception1", "password": PASSWORD,
                                           "role": "reception", "unit": "county"},
                    headers=admin).raise_for_status()
        return login(client, "reception1")


def registration(i: int) -> dict[str, Any]:
    """A valid registration body (the petitioner varies)."""
    return {
        "channel": ("visit", "letter", "phone", "online", "email")[i % 5],
        "received_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "location_unit": "town1.v1",
        "petitioners": [{"name": "张三", "id_number": ID_NUMBERS[i % len(ID_NUMBERS)],
                         "phone": f"138{i % 100_000_000:08d}", "address": "一村三组十号"}],
        "headcount": 1,
        "category": "土地征收",
        "summary": "承包地被占用，要求恢复",
        "content": "来访人反映其承包地被邻村占用，多次协调无果，要求恢复原状。" * 3,
    }


def measure(base: str, headers: dict[str, str], clients: int, requests: int, endpoint: str,
            keys: bool) -> Phase:
    """`requests` calls of one endpoint spread over `clients` threads, each with its own client."""
    counter = iter(range(requests))
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    start = threading.Barrier(clients + 1)

    def call(client: httpx.Client, i: int) -> httpx.Response:
        if endpoint == "healthz":
            return client.get("/healthz")
        extra = {"Idempotency-Key": uuid.uuid4().hex} if keys else {}
        return client.post("/api/v1/petitions", json=registration(i), headers={**headers, **extra})

    def work() -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            call(client, 0)  # connect before the clock starts
            mine: list[float] = []
            bad = 0
            start.wait()
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    break
                began = time.perf_counter()
                answer = call(client, i)
                mine.append(time.perf_counter() - began)
                bad += answer.status_code >= 300
            with lock:
                latencies.extend(mine)
                errors[0] += bad

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return Phase(clients, endpoint, time.perf_counter() - began, latencies, errors[0])


def run_phases(base: str, headers: dict[str, str], clients: int, requests: int, blocks: int,
               keys: bool) -> tuple[Phase, Phase]:
    """Both endpoints at one number of clients, in alternating blocks; their totals."""
    totals = {e: Phase(clients, e, 0.0, [], 0) for e in ("healthz", "register")}
    for block in range(blocks):
        size = requests // blocks + (block < requests % blocks)
        order = ("healthz", "register") if block % 2 == 0 else ("register", "healthz")
        for endpoint in order:
            part = measure(base, headers, clients, size, endpoint, keys)
            total = totals[endpoint]
            total.seconds += part.seconds
            total.latencies += part.latencies
            total.errors += part.errors
    return totals["healthz"], totals["register"]


def postgres_reachable() -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    try:
        psycopg.connect(**PG, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        return str(error).strip().splitlines()[0]
    return None


def report(phases: list[Phase], out: Callable[[str], None] = print) -> None:
    """The table, and the ratio and p99 for each number of clients."""
    out(f"{'clients':>7} {'endpoint':<22} {'requests':>8} {'errors':>6} {'req/s':>8} "
        f"{'p50 ms':>8} {'p99 ms':>8}")
    for p in phases:
        name = "GET /healthz" if p.endpoint == "healthz" else "POST /api/v1/petitions"
        out(f"{p.clients:>7} {name:<22} {len(p.latencies):>8} {p.errors:>6} {p.rate:>8.1f} "
            f"{p.percentile(50):>8.1f} {p.percentile(99):>8.1f}")
    for clients in sorted({p.clients for p in phases}):
        trivial, register = (next(p for p in phases if p.clients == clients and p.endpoint == e)
                             for e in ("healthz", "register"))
        ratio = register.rate / trivial.rate
        verdict = "meets" if ratio >= TARGET else "MISSES"
        out(f"{clients:>2} client(s): registration/trivial = {ratio:.2f} ({verdict} the target "
            f">= {TARGET}); registration p99 {register.percentile(99):.1f} ms")


def main() -> None:
    """Parse options, run the phases, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2000, help="requests per phase")
    parser.add_argument("--clients", default="1,16", help="comma-separated numbers of clients")
    parser.add_argument("--store", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--no-keys", action="store_true", help="send no Idempotency-Key headers")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests first")
    parser.add_argument("--blocks", type=int, default=4,
                        help="alternate the two endpoints in this many blocks (ABBA), so noise from "
                             "other work on the machine hits both alike")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    if args.store == "postgres" and (why := postgres_reachable()) is not None:
        print(f"PostgreSQL is not reachable at {PG['host']}:{PG['port']}/{PG['dbname']} ({why}); "
              "nothing measured. Start it, or run with --store sqlite.")
        return
    with store(args.store) as env, tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        with server(env, log) as base:
            headers = seed(base)
            print(f"server: {base} on {args.store} (cipher on, production mode, own process); "
                  f"{args.requests} requests per phase, clients {counts}")
            for endpoint in ("healthz", "register"):
                measure(base, headers, 4, args.warmup, endpoint, not args.no_keys)
            phases = [run_phases(base, headers, clients, args.requests, args.blocks,
                                 not args.no_keys) for clients in counts]
        errors = [line for line in log.read_text().splitlines() if '"error"' in line][:5]
    report([phase for pair in phases for phase in pair])
    for line in errors:
        print("server error:", line)


if __name__ == "__main__":
    main()

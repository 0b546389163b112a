"""Serving latency: p50/p99 of single-entity and 100-entity batch reads against a /healthz baseline.

Seeds a throw-away view (unique name, deleted afterwards) into the configured Redis, starts
`dip serve` as its own process on a free port, then drives it with a fixed number of concurrent
keep-alive connections (httpx async, one client process). Every phase runs in the same server
process and the same load generator, so the ratios to /healthz isolate the cost of the feature
path (auth, validation, Redis round trip, encoding). Writes benchmarks/results/serving.json.

    .venv/bin/python benchmarks/serving_latency.py [--concurrency 1 4] [--requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, write_result

from dip.config import Config, load_config
from dip.online import ViewSpec, make_client, write_batch

API_KEY = "bench-key"
FEATURES = {
    "views_delta": "int",
    "likes_delta": "int",
    "comments_delta": "int",
    "shares_delta": "int",
    "saves_delta": "int",
    "engagement_ratio_last": "float",
    "engagement_ratio_mean": "float",
    "engagement_ratio_max": "float",
    "growth_velocity": "float",
    "hours_since_publish": "float",
    "snapshot_count": "int",
    "hashtag_count": "int",
    "is_arabic": "bool",
    "is_latin": "bool",
    "caption_vec": "vector",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seed(config: Config, view: ViewSpec, entities: int, vector_dim: int) -> None:
    rng = random.Random(7)
    now_ms = int(time.time() * 1000)
    rows = (
        {
            "entity_id": f"post-{i}",
            "_v": now_ms,
            "_ts": now_ms,
            "_fsv": 1,
            **{name: rng.randint(0, 10_000) for name, kind in FEATURES.items() if kind == "int"},
            **{name: rng.random() for name, kind in FEATURES.items() if kind == "float"},
            "is_arabic": i % 2 == 0,
            "is_latin": i % 2 == 1,
            "caption_vec": [rng.random() for _ in range(vector_dim)],
        }
        for i in range(entities)
    )
    client = make_client(config.redis)
    try:
        write_batch(client, rows, view)
    finally:
        client.close()


def _cleanup(config: Config, view: str) -> None:
    client = make_client(config.redis)
    try:
        keys = list(client.scan_iter(match=f"dip:{view}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _server_env(view: str) -> dict[str, str]:
    spec = {"entity": "post", "ttl_seconds": 86400, "features": FEATURES}
    key = {"sha256": hashlib.sha256(API_KEY.encode()).hexdigest(), "scopes": ["features:*"]}
    return {
        **os.environ,
        f"DIP__ONLINE__VIEWS__{view.upper()}": json.dumps(spec),
        "DIP__SERVING__API_KEYS__BENCH": json.dumps(key),
        "DIP__SERVING__ACCESS_LOG": "false",
    }


def start_server(env: str, view: str, port: int, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`dip serve` on ``port`` with ``view`` configured and the bench API key; returns once /readyz answers."""
    dip = Path(sys.executable).with_name("dip")
    process = subprocess.Popen(
        [str(dip), "serve", "--env", env, "--port", str(port)],
        env={**_server_env(view), **(extra_env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dip serve exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError("dip serve did not become ready within 30 s")


async def phase(
    base_url: str, concurrency: int, requests: int, make: Callable[[httpx.AsyncClient, int], Any]
) -> dict[str, float]:
    """Run ``requests`` calls over ``concurrency`` workers; latency percentiles in milliseconds."""
    latencies: list[float] = []
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"X-API-Key": API_KEY}
    async with httpx.AsyncClient(base_url=base_url, limits=limits, headers=headers, timeout=10) as client:

        async def worker() -> None:
            for i in counter:
                started = time.perf_counter()
                response = await make(client, i)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:200]}")

        warm = iter(range(min(200, requests)))
        for _ in warm:  # warm-up: connections, code paths (not measured)
            await make(client, 0)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ms = sorted(x * 1000 for x in latencies)
    return {
        "requests": len(ms),
        "p50_ms": round(statistics.quantiles(ms, n=100)[49], 3),
        "p99_ms": round(statistics.quantiles(ms, n=100)[98], 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "max_ms": round(ms[-1], 3),
        "rps": round(len(ms) / elapsed, 1),
    }


async def _run(base_url: str, view: str, entities: int, concurrency: int, requests: int, batch: int) -> dict[str, Any]:
    def healthz(client: httpx.AsyncClient, _: int) -> Any:
        return client.get("/healthz")

    def single(client: httpx.AsyncClient, i: int) -> Any:
        return client.get(f"/v1/features/{view}/post-{(i * 7919) % entities}")

    def batched(client: httpx.AsyncClient, i: int) -> Any:
        ids = [f"post-{(i * batch + j) % entities}" for j in range(batch)]
        return client.post("/v1/features:batch", json={"requests": [{"view": view, "entity_ids": ids}]})

    base = await phase(base_url, concurrency, requests, healthz)
    one = await phase(base_url, concurrency, requests, single)
    many = await phase(base_url, concurrency, max(requests // 10, 100), batched)
    return {
        "concurrency": concurrency,
        "healthz": base,
        "single_entity": one,
        f"batch_{batch}": many,
        "ratios_to_healthz": {
            "single_p50": round(one["p50_ms"] / base["p50_ms"], 2),
            "single_p99": round(one["p99_ms"] / base["p99_ms"], 2),
            f"batch_{batch}_p50": round(many["p50_ms"] / base["p50_ms"], 2),
            f"batch_{batch}_p99": round(many["p99_ms"] / base["p99_ms"], 2),
        },
    }


def _print(run: dict[str, Any], batch: int) -> None:
    print(f"\nconcurrency {run['concurrency']}")
    print(f"  {'phase':16} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'req/s':>8}")
    for phase in ("healthz", "single_entity", f"batch_{batch}"):
        r = run[phase]
        figures = f"{r['p50_ms']:>8.3f} {r['p99_ms']:>8.3f} {r['mean_ms']:>8.3f} {r['rps']:>8.1f}"
        print(f"  {phase:16} {r['requests']:>8} {figures}")
    ratios = run["ratios_to_healthz"]
    print("  vs /healthz: " + ", ".join(f"{k} x{v}" for k, v in ratios.items()))


def main() -> None:
    """Seed, serve, measure, print and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default=None, help="config environment (default $DIP_ENV or local)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--requests", type=int, default=3000, help="per phase; batch phases run a tenth")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--entities", type=int, default=2000)
    parser.add_argument("--vector-dim", type=int, default=64)
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    args = parser.parse_args()

    config = load_config(args.env)
    view = f"bench_{uuid.uuid4().hex[:10]}"
    spec = ViewSpec(view, "post", FEATURES, ttl_seconds=86400)
    started = time.perf_counter()
    _seed(config, spec, args.entities, args.vector_dim)
    seed_s = time.perf_counter() - started
    port = free_port()
    server = start_server(config.env, view, port)
    try:
        runs = [
            asyncio.run(_run(f"http://127.0.0.1:{port}", view, args.entities, c, args.requests, args.batch_size))
            for c in args.concurrency
        ]
    finally:
        server.terminate()
        server.wait(timeout=10)
        _cleanup(config, view)
    result = {
        "benchmark": "serving_latency",
        "setup": {
            "server": "dip serve (1 uvicorn process, access log off)",
            "client": "httpx.AsyncClient, keep-alive, same machine",
            "entities": args.entities,
            "features": len(FEATURES),
            "vector_dim": args.vector_dim,
            "batch_size": args.batch_size,
            "seed_seconds": round(seed_s, 2),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "redis": f"{config.redis.host}:{config.redis.port}",
        },
        "runs": runs,
    }
    print(f"seeded {args.entities} entities in {seed_s:.2f}s; server on :{port}")
    for run in runs:
        _print(run, args.batch_size)
    path = write_result("serving", result, args.results_dir)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()

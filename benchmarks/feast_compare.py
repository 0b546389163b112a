"""DIP vs Feast on the same features, the same Redis and the same format: push vs `feast materialize`, reads.

Feast (``conf/feast-requirements.txt``, ``make feast-venv``) runs in its own virtual environment
(``.venv-feast``; Feast and the jobs' environment are never mixed). The same seeded post_features_daily
DataFrame is written once as the DIP feature table and once as parquet, Feast's FileSource. DIP pushes in
Feast's online format (``online.format: feast``, project ``dipbench``: the very keys and fields Feast writes).
Push: ``push_online`` vs ``FeatureStore.materialize`` over the same window (timed inside Feast's process,
imports excluded), each after emptying the Redis db, interleaved, median of ``--runs`` (goal: DIP >= 5x Feast
rows/s). Reads: Feast's Python ``get_online_features`` (one post, 100 posts) on DIP-written data and on
Feast-written data (same format, so the same latency: both copies side by side in the db under two projects,
read in turn by one Feast process), and the values and raw hashes of a few posts must be equal (DIP adds two
fields of its own). Serving (``--serving``): ``dip serve`` and ``feast serve`` (one worker each) on DIP's copy,
the same single-entity and 100-entity reads at fixed concurrency (goal: DIP p99 <= 0.5x Feast p99). If Feast cannot be
installed or started, the result says why and holds no figures. Needs an empty Redis ``--db`` (flushed after).
Writes <results-dir>/feast.json.

    .venv/bin/python benchmarks/feast_compare.py [--rows 100000] [--runs 3] [--no-install] [--no-serving]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    FEATURE_DAY,
    Scratch,
    bench_parser,
    environment,
    interleaved,
    summary,
    synthetic_features,
    write_result,
)
from serving_latency import API_KEY, FEATURES, free_port, phase, start_server

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().parent / "feast_worker.py"
VIEW = "post_features_daily"
PROJECT, FEAST_PROJECT = "dipbench", "feastbench"  # DIP's copy and Feast's copy of the same rows, one db
GOALS = {"push_vs_feast_materialize_min": 5.0, "serving_p99_vs_feast_max": 0.5}
SAME_VALUE_POSTS = ["bp0", "bp1", "bp2"]


class FeastUnavailable(RuntimeError):
    """Feast could not be installed or run here; the message is the reason reported."""


def ensure_feast(venv: Path, install: bool) -> dict[str, Any]:
    """Feast in ``venv`` (``make feast-venv`` when missing and ``install``), with its version."""
    info: dict[str, Any] = {"venv": str(venv)}
    if not (venv / "bin" / "feast").exists():
        if not install:
            raise FeastUnavailable(f"no Feast in {venv} and --no-install given")
        started = time.perf_counter()
        cmd = ["make", "-C", str(ROOT), "feast-venv", f"FEAST_VENV={venv}"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, check=False)
        if out.returncode != 0:
            raise FeastUnavailable(f"make feast-venv failed: {(out.stderr or out.stdout).strip()[-500:]}")
        info["install_s"] = round(time.perf_counter() - started, 1)
    info["installed"] = _feast_version(venv)
    return info


def _feast_version(venv: Path) -> str | None:
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import feast; print(feast.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() or None if out.returncode == 0 else None


def _worker(venv: Path, *args: str) -> str:
    out = subprocess.run(
        [str(venv / "bin" / "python"), str(WORKER), *args], capture_output=True, text=True, timeout=3600, check=False
    )
    if out.returncode != 0:
        raise FeastUnavailable(f"feast_worker {args[0]} failed: {(out.stderr or out.stdout).strip()[-800:]}")
    return out.stdout


def _start_feast(venv: Path, repo: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [str(venv / "bin" / "feast"), "serve", "-p", str(port), "--no-access-log"],
        cwd=repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise FeastUnavailable(
                f"feast serve exited: {process.stderr.read().decode()[-800:] if process.stderr else ''}"
            )
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    process.terminate()
    raise FeastUnavailable("feast serve did not answer /health within 120 s")


def measure_push(
    spark: Any, config: Any, scratch: Scratch, venv: Path, rows: int, runs: int, warmup: int, reads_n: int
) -> dict:
    """Write the same rows as the DIP table and as Feast's parquet source; interleave push and materialize."""
    from dip.features.push import push_online
    from dip.features.specs import POST_DAILY
    from dip.features.store import feature_store
    from dip.io.lake import delete_path
    from dip.online import make_client
    from dip.online.feast_codec import entity_key
    from dip.tables import FEATURE_PUSH_STATE

    df = synthetic_features(spark, rows, config.features.text.vector_size, spark.sparkContext.defaultParallelism)
    df = df.persist()
    feature_store(spark, config).upsert(df, POST_DAILY, FEATURE_DAY.isoformat())
    parquet = scratch.root / "feast_source"
    df.write.parquet(str(parquet))
    df.unpersist()
    redis = f"{config.redis.host}:{config.redis.port},db={config.redis.db}"
    repos = {}
    for side, project in (("dip", PROJECT), ("feast", FEAST_PROJECT)):  # the same definitions, one project each
        repos[side] = scratch.root / f"feast_repo_{side}"
        _worker(venv, "init", str(repos[side]), str(parquet), redis, project)
    start = (FEATURE_DAY - timedelta(days=1)).isoformat() + "T00:00:00+00:00"
    end = (FEATURE_DAY + timedelta(days=2)).isoformat() + "T00:00:00+00:00"
    client = make_client(config.redis)

    def keys_of(project: str) -> list[bytes]:
        return list(client.scan_iter(match=b"*" + project.encode(), count=5000))

    def clear(project: str) -> None:
        keys = keys_of(project)
        for i in range(0, len(keys), 5000):
            client.unlink(*keys[i : i + 5000])

    def dip() -> dict[str, Any]:
        clear(PROJECT)
        delete_path(spark, FEATURE_PUSH_STATE.path(config))
        started = time.perf_counter()
        pushes = push_online(spark, config, [VIEW])
        return {"seconds": time.perf_counter() - started, "rows": pushes[0].written}

    def feast() -> dict[str, Any]:
        clear(FEAST_PROJECT)
        return json.loads(_worker(venv, "materialize", str(repos["feast"]), start, end).strip().splitlines()[-1])

    try:
        timings = interleaved({"dip": dip, "feast": feast}, runs, warmup)
        # both copies now side by side in the db: read them in turn, request by request, from one Feast process
        reads = json.loads(_worker(venv, "latency", str(repos["dip"]), str(repos["feast"]), str(rows), str(reads_n)))
        values = {side: json.loads(_worker(venv, "read", str(repo), *SAME_VALUE_POSTS)) for side, repo in repos.items()}
        raw = {
            side: {post: client.hgetall(entity_key(project, "post", post)) for post in SAME_VALUE_POSTS}
            for side, project in (("dip", PROJECT), ("feast", FEAST_PROJECT))
        }
        dip_keys, feast_keys = len(keys_of(PROJECT)), len(keys_of(FEAST_PROJECT))
    finally:
        client.close()
    dip_side = summary([r["seconds"] for r in timings["dip"].results], rows)
    feast_side = summary([r["seconds"] for r in timings["feast"].results], rows)
    for name in ("single", "batch_100"):
        reads[f"p50_ratio_{name}_dip_vs_feast_written"] = round(
            reads["dip_written"][name]["p50_ms"] / reads["feast_written"][name]["p50_ms"], 3
        )
    reads["same_values_read_by_feast"] = values["dip"] == values["feast"]
    reads["raw_hash_difference"] = _hash_difference(raw["dip"], raw["feast"])
    return {
        "repo": repos["dip"],
        "dip_push_online": {
            **dip_side,
            "rows_written": timings["dip"].result["rows"],
            "entity_keys_in_redis": dip_keys,
            "what": "push_online with online.format feast: Feast's keys, fields and values, written from the executors",
        },
        "feast_materialize": {
            **feast_side,
            "entity_keys_in_redis": feast_keys,
            "what": "FeatureStore.materialize(start, end) from a parquet FileSource, file offline store",
        },
        "ratio_rows_per_s": round(feast_side["median_s"] / dip_side["median_s"], 3),
        "feast_get_online_features": reads,
    }


def _hash_difference(dip: dict[str, dict[bytes, bytes]], feast: dict[str, dict[bytes, bytes]]) -> dict:
    """Fields of the same Redis hashes that only one side wrote, or wrote with different bytes."""
    only_dip, only_feast, different = set(), set(), set()
    both = [key for key in dip.keys() & feast.keys() if dip[key] and feast[key]]
    for key in both:
        ours, theirs = dip[key], feast[key]
        only_dip |= {f.hex() if not f.isascii() else f.decode() for f in ours.keys() - theirs.keys()}
        only_feast |= {f.hex() if not f.isascii() else f.decode() for f in theirs.keys() - ours.keys()}
        different |= {
            f.hex() if not f.isascii() else f.decode() for f in ours.keys() & theirs.keys() if ours[f] != theirs[f]
        }
    return {
        "compared_keys": len(both),
        "only_dip": sorted(only_dip),
        "only_feast": sorted(only_feast),
        "different": sorted(different),
    }


async def _serving_runs(dip_url: str, feast_url: str, rows: int, concurrency: int, requests: int) -> dict:
    refs = [f"{VIEW}:{name}" for name in FEATURES]

    def dip_single(client: httpx.AsyncClient, i: int) -> Any:
        return client.get(f"{dip_url}/v1/features/{VIEW}/bp{(i * 7919) % rows}")

    def dip_batch(client: httpx.AsyncClient, i: int) -> Any:
        ids = [f"bp{(i * 100 + j) % rows}" for j in range(100)]
        return client.post(f"{dip_url}/v1/features:batch", json={"requests": [{"view": VIEW, "entity_ids": ids}]})

    def feast_single(client: httpx.AsyncClient, i: int) -> Any:
        ids = [f"bp{(i * 7919) % rows}"]
        return client.post(f"{feast_url}/get-online-features", json={"features": refs, "entities": {"post_id": ids}})

    def feast_batch(client: httpx.AsyncClient, i: int) -> Any:
        ids = [f"bp{(i * 100 + j) % rows}" for j in range(100)]
        return client.post(f"{feast_url}/get-online-features", json={"features": refs, "entities": {"post_id": ids}})

    out: dict[str, Any] = {"concurrency": concurrency}
    for name, make, n in (
        ("dip_single", dip_single, requests),
        ("feast_single", feast_single, requests),
        ("dip_batch_100", dip_batch, max(requests // 10, 50)),
        ("feast_batch_100", feast_batch, max(requests // 10, 50)),
    ):
        out[name] = await phase("", concurrency, n, make)
    out["p99_ratio_single"] = round(out["dip_single"]["p99_ms"] / out["feast_single"]["p99_ms"], 3)
    out["p99_ratio_batch_100"] = round(out["dip_batch_100"]["p99_ms"] / out["feast_batch_100"]["p99_ms"], 3)
    return out


def measure_serving(config: Any, venv: Path, repo: Path, rows: int, concurrency: list[int], requests: int) -> dict:
    """Both servers on the same Redis db; check one value matches, then the same reads against each."""
    dip_port, feast_port = free_port(), free_port()
    feast_format = {"DIP__ONLINE__FORMAT": "feast", "DIP__ONLINE__FEAST_PROJECT": PROJECT}
    dip_server = start_server(config.env, VIEW, dip_port, {"DIP__REDIS__DB": str(config.redis.db), **feast_format})
    feast_server = None
    try:
        feast_server = _start_feast(venv, repo, feast_port)
        dip_url, feast_url = f"http://127.0.0.1:{dip_port}", f"http://127.0.0.1:{feast_port}"
        ours = httpx.get(f"{dip_url}/v1/features/{VIEW}/bp1", headers={"X-API-Key": API_KEY}, timeout=10).json()
        theirs = httpx.post(
            f"{feast_url}/get-online-features",
            json={"features": [f"{VIEW}:views_delta"], "entities": {"post_id": ["bp1"]}},
            timeout=10,
        ).json()
        same = ours["features"]["views_delta"] == theirs["results"][1]["values"][0]
        runs = [asyncio.run(_serving_runs(dip_url, feast_url, rows, c, requests)) for c in concurrency]
    finally:
        dip_server.terminate()
        dip_server.wait(timeout=10)
        if feast_server is not None:
            feast_server.terminate()
            feast_server.wait(timeout=10)
    return {"same_value_check_views_delta_bp1": same, "runs": runs}


def main() -> int:
    parser = bench_parser(__doc__, rows=100_000)
    parser.add_argument("--db", type=int, default=12, help="an empty Redis db for both stores (flushed after)")
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv-feast", help="Feast's venv (make feast-venv)")
    parser.add_argument("--no-install", action="store_true", help="report unavailable instead of installing Feast")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--requests", type=int, default=2000, help="per single-entity phase; batch phases a tenth")
    parser.add_argument("--reads", type=int, default=500, help="Feast get_online_features calls per read phase")
    parser.add_argument("--serving", action=argparse.BooleanOptionalAction, default=True, help="dip vs feast serve")
    args = parser.parse_args()

    result: dict[str, Any] = {"benchmark": "feast", "rows": args.rows, "goals": GOALS}
    try:
        result["feast"] = ensure_feast(args.venv, not args.no_install)
    except (FeastUnavailable, subprocess.TimeoutExpired, OSError) as exc:
        return _unavailable(result, str(exc), args.results_dir)

    from dip.online import make_client
    from dip.spark import build_session

    scratch = Scratch("feast")
    overrides = {"DIP__REDIS__DB": str(args.db), "DIP__ONLINE__FORMAT": "feast", "DIP__ONLINE__FEAST_PROJECT": PROJECT}
    config = scratch.config(args.env, **overrides)
    client = make_client(config.redis)
    if client.dbsize():
        client.close()
        return _unavailable(result, f"Redis db {args.db} is not empty; pass --db of an empty one", args.results_dir)
    spark = build_session(config, app_name="dip-bench-feast")
    try:
        push = measure_push(spark, config, scratch, args.venv, args.rows, args.runs, args.warmup, args.reads)
        repo = push.pop("repo")
        result["push"] = push
        result["environment"] = environment(spark, config)
        spark.stop()
        if args.serving:
            result["serving"] = measure_serving(config, args.venv, repo, args.rows, args.concurrency, args.requests)
    except FeastUnavailable as exc:
        return _unavailable(result, str(exc), args.results_dir)
    finally:
        spark.stop()
        client.flushdb()
        client.close()
        scratch.cleanup()
    result["available"] = True
    path = write_result("feast", result, args.results_dir)
    print(report(result))
    print(f"wrote {path}")
    return 0


def _unavailable(result: dict[str, Any], reason: str, results_dir: Path) -> int:
    result |= {"available": False, "reason": reason}
    path = write_result("feast", result, results_dir)
    print(f"Feast comparison not run: {reason}\nwrote {path}")
    return 0


def report(result: dict[str, Any]) -> str:
    """Human-readable lines of a Feast comparison."""
    push = result["push"]
    lines = [
        f"{result['rows']:,} rows, Feast {result['feast']['installed']}",
        f"  DIP push_online          {push['dip_push_online']['median_s']:8.2f}s  "
        f"{push['dip_push_online']['rows_per_s']:>9,} rows/s",
        f"  feast materialize        {push['feast_materialize']['median_s']:8.2f}s  "
        f"{push['feast_materialize']['rows_per_s']:>9,} rows/s  -> DIP {push['ratio_rows_per_s']}x "
        f"(goal >= {GOALS['push_vs_feast_materialize_min']}x)",
    ]
    reads = push["feast_get_online_features"]
    for name in ("single", "batch_100"):
        ours, theirs = reads["dip_written"][name], reads["feast_written"][name]
        lines.append(
            f"  Feast get_online_features {name}: p50/p99 on DIP-written {ours['p50_ms']}/{ours['p99_ms']} ms, "
            f"on Feast-written {theirs['p50_ms']}/{theirs['p99_ms']} ms "
            f"-> p50 ratio {reads[f'p50_ratio_{name}_dip_vs_feast_written']}"
        )
    lines.append(f"  same values read by Feast from both: {reads['same_values_read_by_feast']}")
    for run in result.get("serving", {}).get("runs", []):
        ours, theirs = run["dip_single"], run["feast_single"]
        lines.append(
            f"  concurrency {run['concurrency']}: single p50/p99 DIP {ours['p50_ms']}/{ours['p99_ms']} ms, "
            f"Feast {theirs['p50_ms']}/{theirs['p99_ms']} ms"
            f" -> p99 ratio {run['p99_ratio_single']}; batch 100 p99 DIP {run['dip_batch_100']['p99_ms']} ms, "
            f"Feast {run['feast_batch_100']['p99_ms']} ms -> {run['p99_ratio_batch_100']}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

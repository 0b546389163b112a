"""Chaos run: the pipeline under kill -9, broker and Redis restarts and API storms ends exactly where a fault-free
run ends.

Two isolated pipelines (own lake, topics, ingest state, Redis db) read the same seeded simulator. The reference
runs each stage once. The chaos side runs each stage as a real ``dip`` process and kills it with SIGKILL at
seeded random points (``--points`` per stage, spread over the reference run's duration), kills and restarts the
Kafka broker during ingest and during streaming, kills Redis during push-online and while ``dip serve`` answers
(503 in the error shape, then the same answer again), and ingests through an API storm (429 bursts with
Retry-After, 500s, slow answers past the timeout, malformed pages, expired tokens). Each stage is then re-run
to completion, ``dip reconcile`` must balance on both sides, and every silver table, feature table and Redis
hash is compared with the reference (volatile columns such as run ids and processing times left out):
rows lost, rows duplicated and mismatches must all be 0.

    python benchmarks/chaos.py [--points 3] [--seed 11] [--quick]     # results: benchmarks/results/chaos.json

``--quick`` (CI): ingest (storm, one kill point, a broker restart) and `dip stream all` crashed right after
bronze's and silver's first batch commits; three Spark applications in all (no features/push/serving).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _common import Scratch, bench_parser, environment, write_result

TT_IDS = ["_000LinaAbayasOpenId", "_000NoorModestOpenId", "_000DubaiAbayaOpenId"]
# columns that differ between two correct runs: ids and times of runs, batches, fetches and commits
VOLATILE = {
    "run_id", "captured_at", "fetched_at", "updated_at", "processed_at", "ingested_at", "quarantined_at",
    "computed_at", "batch_id", "writer", "request_id", "kafka_timestamp", "offset", "partition", "topic",
    "ingest_date", "failed_at", "dlq_id", "window_start_ts",
    # views / hours from publish to the snapshot's fetch: the two sides fetch at different wall-clock times (the
    # chaos side's last good ingest runs minutes later), so this feature differs without anything being lost
    "growth_velocity",
}  # fmt: skip
STORM = {
    "rate_limit_every": 9,
    "rate_limit_burst": 2,
    "retry_after_s": 1,
    "error_500_every": 13,
    "slow_every": 17,
    "slow_s": 2.5,
    "malformed_pages": 2,
}


@dataclass
class Side:
    """One pipeline: its environment variables and what happened to it."""

    name: str
    env: dict[str, str]
    faults: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)


def _start(side: Side, args: tuple[str, ...] | list[str]) -> subprocess.Popen:
    """``dip <args>`` as its own process group (a kill reaches its JVM too), output captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "dip.cli", *args],
        env=side.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def dip(
    side: Side, *args: str, kill_after: float | None = None, timeout: float = 1200, allow_exit: int | None = None
) -> dict[str, Any]:
    """Run ``dip <args>`` as its own process; SIGKILL it after ``kill_after`` seconds when still running."""
    started = time.monotonic()
    proc = _start(side, args)
    killed = False
    try:
        out, _ = proc.communicate(timeout=kill_after if kill_after is not None else timeout)
    except subprocess.TimeoutExpired:
        if kill_after is None:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        os.killpg(proc.pid, signal.SIGKILL)  # the JVM too: the whole process group
        out, _ = proc.communicate()
        killed = True
    run = {
        "command": " ".join(args),
        "seconds": round(time.monotonic() - started, 2),
        "exit": proc.returncode,
        "killed": killed,
    }
    if kill_after is not None:
        run["kill_after_s"] = round(kill_after, 2)
    side.runs.append(run)
    if not killed and proc.returncode not in (0, allow_exit) and kill_after is None:
        raise RuntimeError(f"{side.name}: dip {' '.join(args)} exited {proc.returncode}:\n{out[-3000:]}")
    run["output_tail"] = out[-400:] if proc.returncode else ""
    return run


def kill_service(config: Any, name: str) -> int:
    """SIGKILL the local stack's ``kafka`` or ``redis`` (its pid file)."""
    from dip_local.stack.services import stack_status

    pid = next(s.pid for s in stack_status(config) if s.name == name)
    os.kill(pid, signal.SIGKILL)
    return pid


def restart_stack(config: Any) -> None:
    from dip_local.stack.services import stack_up

    for _ in range(3):
        if all(s.healthy for s in stack_up(config)):
            return
        time.sleep(2)
    raise RuntimeError("the local stack did not come back")


def during(side: Side, args: list[str], after_s: float, fault: str, config: Any) -> None:
    """Run ``dip <args>``; ``after_s`` seconds in, kill -9 the ``fault`` service and start it again."""
    proc = _start(side, args)
    started = time.monotonic()
    time.sleep(after_s)
    pid = kill_service(config, fault)
    time.sleep(1.0)
    restart_stack(config)
    out, _ = proc.communicate(timeout=1200)
    side.faults.append({"fault": f"{fault} killed", "during": " ".join(args), "after_s": after_s, "pid": pid})
    side.runs.append(
        {"command": " ".join(args), "seconds": round(time.monotonic() - started, 2), "exit": proc.returncode,
         "service_killed": fault, "output_tail": out[-400:] if proc.returncode else ""}
    )  # fmt: skip


def kills(side: Side, args: list[str], reference_s: float, points: int, rng: random.Random) -> None:
    """``points`` runs killed with SIGKILL at seeded moments inside the reference duration (a run that ends
    before its moment is recorded as not injected)."""
    for at in sorted(rng.uniform(0.15, 0.7) * reference_s for _ in range(points)):
        run = dip(side, *args, kill_after=at)
        side.faults.append({"fault": "kill -9", "during": " ".join(args), "after_s": round(at, 2),
                            "injected": run["killed"]})  # fmt: skip


def crash_after_batch(side: Side, args: list[str], point: str) -> None:
    """A run that dies right after batch ``point``'s commits, before its checkpoint (the replay window)."""
    from dip.config import load_config
    from dip.streaming.runner import CRASH_AFTER_BATCH_ENV, CRASH_EXIT_CODE
    from dip.tables import checkpoint_path

    crashing = Side(side.name, side.env | {CRASH_AFTER_BATCH_ENV: point}, side.faults, side.runs)
    run = dip(crashing, *args, kill_after=None, allow_exit=CRASH_EXIT_CODE)
    # the batch is in the tables but not in the checkpoint: its offsets are logged, its commit is not
    checkpoint = Path(checkpoint_path(load_config(environ=side.env), point.split(":")[0]).removeprefix("file://"))
    logged = {d: sorted(p.name for p in (checkpoint / d).glob("[0-9]*")) for d in ("offsets", "commits")}
    side.faults.append({"fault": "crash between commit and checkpoint", "during": " ".join(args), "point": point,
                        "injected": run["exit"] == CRASH_EXIT_CODE, "checkpoint": logged})  # fmt: skip


def serving_through_a_redis_restart(side: Side, config: Any, view: str, entity_id: str) -> dict[str, Any]:
    """``dip serve`` answers, Redis is killed (503 in the error shape), restarted, and the same answer returns."""
    import hashlib

    from dip_local.simulator.server import free_port

    port = free_port()
    key = "chaos-key-0123456789"
    env = side.env | {
        "DIP__SERVING__PORT": str(port),
        "DIP__SERVING__API_KEYS__CHAOS": json.dumps(
            {"sha256": hashlib.sha256(key.encode()).hexdigest(), "scopes": ["features:*"]}
        ),
    }
    proc = subprocess.Popen([sys.executable, "-m", "dip.cli", "serve"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1/features/{view}/{entity_id}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                before = httpx.get(url, headers={"X-API-Key": key}, timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        kill_service(config, "redis")
        down = httpx.get(url, headers={"X-API-Key": key}, timeout=10)
        restart_stack(config)
        after = httpx.get(url, headers={"X-API-Key": key}, timeout=10)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    side.faults.append({"fault": "redis killed", "during": "dip serve"})
    result = {
        "before": before.status_code,
        "during_outage": down.status_code,
        "during_outage_body": down.json(),
        "after": after.status_code,
        "same_answer": before.json() == after.json(),
    }
    result["recovered"] = (
        before.status_code == 200
        and down.status_code == 503
        and down.json().get("error") == "store_unavailable"
        and result["same_answer"]
    )
    return result


def table_rows(config: Any, table: Any) -> Counter:
    """A table's rows without volatile columns, as a multiset (JVM-free: delta-rs / hudi-rs)."""
    from dip.io.arrow_reader import read_arrow

    try:
        arrow = read_arrow(config, table)
    except Exception:  # a table the run never wrote
        return Counter()
    keep = [c for c in arrow.column_names if c not in VOLATILE and not c.startswith("_")]
    return Counter(json.dumps(r, sort_keys=True, default=str) for r in arrow.select(keep).to_pylist())


def redis_state(config: Any) -> Counter:
    """Every ``dip:*`` hash of the side's Redis db, without the write version ``_v``."""
    from dip.online import make_client

    client = make_client(config.redis)
    try:
        state = Counter()
        for key in client.scan_iter("dip:*", count=1000):
            fields = {k.decode(): v.decode("utf-8", "replace") for k, v in client.hgetall(key).items()}
            for volatile in ("_v", *VOLATILE):
                fields.pop(volatile, None)
            state[json.dumps([key.decode(), fields], sort_keys=True)] += 1
        return state
    finally:
        client.close()


def compare(reference: Counter, chaos: Counter) -> dict[str, int]:
    lost = reference - chaos
    extra = chaos - reference
    duplicated = sum(n for row, n in extra.items() if row in reference)
    return {
        "rows": sum(reference.values()),
        "lost": sum(lost.values()),
        "duplicated": duplicated,
        "mismatched": sum(extra.values()) - duplicated,
    }


def main() -> None:
    parser = bench_parser(__doc__, rows=None, runs=1)
    parser.add_argument("--points", type=int, default=3, help="kill -9 points per stage")
    parser.add_argument("--quick", action="store_true", help="CI: one point per stage, ingest and streaming only")
    parser.set_defaults(seed=11)
    args = parser.parse_args()
    points = 1 if args.quick else args.points
    rng = random.Random(args.seed)
    from dip.config import load_config
    from dip.tables import FEATURE_TABLES, SILVER_TABLES
    from dip_local.simulator import create_app
    from dip_local.simulator.server import background_server

    today = datetime.now(UTC).date().isoformat()
    base = load_config(args.env)
    started = time.monotonic()
    with background_server(create_app(args.seed)) as api:
        sides = {}
        for name, db in (("reference", 14), ("chaos", 15)):
            scratch = Scratch(f"chaos{name[:3]}")
            secrets = {
                "DIP__CONNECTORS__INSTAGRAM__BASE_URL": api,
                "DIP__CONNECTORS__TIKTOK__BASE_URL": api,
                "DIP__CONNECTORS__INSTAGRAM__APP_SECRET": "dev-ig-app-secret",
                "DIP__CONNECTORS__INSTAGRAM__ACCESS_TOKEN": "dev-ig-user-token",
                "DIP__CONNECTORS__TIKTOK__CLIENT_SECRET": "dev-tt-client-secret",
                "DIP__CONNECTORS__TIKTOK__REFRESH_TOKENS": json.dumps({i: f"dev-refresh-{i}" for i in TT_IDS}),
                "DIP__CONNECTORS__TIMEOUT_S": "2",
                "DIP__CONNECTORS__BACKOFF_MAX_S": "1",
                "DIP__CONNECTORS__RETRY_AFTER_MAX_S": "1",
                "DIP__REDIS__DB": str(db),
                "DIP__SPARK__REGISTER_TABLES": "false",
            }
            config = scratch.config(args.env, **secrets)
            env = {**os.environ, **secrets, "DIP__LAKE__ROOT": config.lake.root,
                   "DIP__CONNECTORS__STATE_DIR": str(scratch.root / "ingest-state"),
                   "DIP__KAFKA__TOPICS__RAW_PREFIX": config.kafka.topics.raw_prefix,
                   "DIP__KAFKA__TOPICS__DLQ": config.kafka.topics.dlq,
                   "DIP__KAFKA__TOPICS__PREDICTIONS": config.kafka.topics.predictions,
                   "DIP__STREAMING__APP_ID": config.streaming.app_id,
                   "DIP__METRICS__TEXTFILE_DIR": str(scratch.root / "metrics")}  # fmt: skip
            from dip.online import make_client

            make_client(config.redis).flushdb()
            sides[name] = (Side(name, env), config, scratch)

        # quick (CI): both streams in one Spark application, so the whole run starts three JVMs
        stages = [["ingest"], ["stream", "all"]] if args.quick else [
            ["ingest"], ["stream", "bronze"], ["stream", "silver"], ["features", "--date", today], ["push-online"]
        ]  # fmt: skip
        ref, ref_config, _ = sides["reference"]
        durations = {}
        for stage in stages:
            print(f"reference: dip {' '.join(stage)}", flush=True)
            durations[" ".join(stage)] = dip(ref, *stage)["seconds"]

        chaos, chaos_config, _ = sides["chaos"]
        sim = f"{api}/_sim/faults"
        httpx.post(sim, json=STORM | {"expire_tokens": True}).raise_for_status()
        chaos.faults.append({"fault": "API storm", "settings": STORM | {"expire_tokens": True}})
        print("chaos: ingest under an API storm, kill -9 and a broker restart", flush=True)
        kills(chaos, ["ingest"], durations["ingest"], points, rng)
        during(chaos, ["ingest"], min(1.5, durations["ingest"] / 2), "kafka", chaos_config)
        httpx.post(sim, json={"expire_tokens": True}).raise_for_status()  # storm over; tokens expire once more
        dip(chaos, "ingest")
        for stage in stages[1:]:
            name = " ".join(stage)
            print(f"chaos: dip {name}: kill -9 at {points} point(s), crashes, service restarts", flush=True)
            if stage == ["stream", "all"]:  # quick: deterministic crashes inside each stream instead of timed kills
                crash_after_batch(chaos, stage, "stream_bronze:0")
                crash_after_batch(chaos, stage, "stream_silver:0")
            else:
                kills(chaos, stage, durations[name], points, rng)
            if stage == ["stream", "bronze"]:
                crash_after_batch(chaos, stage, "stream_bronze:0")
                during(chaos, stage, durations[name] * 0.6, "kafka", chaos_config)
            if stage == ["stream", "silver"]:
                crash_after_batch(chaos, stage, "stream_silver:0")
            if stage == ["push-online"]:
                during(chaos, stage, durations[name] * 0.6, "redis", chaos_config)
            dip(chaos, *stage)

        reconcile = {}
        for side, _, _ in sides.values():
            proc = subprocess.run([sys.executable, "-m", "dip.cli", "reconcile"], env=side.env, capture_output=True,
                                  text=True, check=False)  # fmt: skip
            reconcile[side.name] = {"exit": proc.returncode, "summary": proc.stdout.strip().splitlines()[-1:]}

        tables = {t.name: t for t in SILVER_TABLES.values()}
        if not args.quick:
            tables |= {t.name: t for t in FEATURE_TABLES.values()}
        comparison = {
            name: compare(table_rows(ref_config, table), table_rows(chaos_config, table))
            for name, table in tables.items()
        }
        serving = None
        if not args.quick:
            stored = redis_state(chaos_config)
            comparison["redis"] = compare(redis_state(ref_config), stored)
            _, view, entity = json.loads(min(stored))[0].split(":", 2)  # dip:<view>:<entity id>
            serving = serving_through_a_redis_restart(chaos, chaos_config, view, entity)

    injected = [f for f in chaos.faults if f.get("injected", True)]
    totals = {k: sum(c[k] for c in comparison.values()) for k in ("rows", "lost", "duplicated", "mismatched")}
    result = {
        "seed": args.seed,
        "points_per_stage": points,
        "quick": args.quick,
        "faults_injected": len(injected),
        "faults_planned": len(chaos.faults),
        "runs_recovered": sum(1 for r in chaos.runs if not r.get("killed") and r["exit"] == 0),
        "rows_compared": totals["rows"],
        "rows_lost": totals["lost"],
        "rows_duplicated": totals["duplicated"],
        "mismatches": totals["mismatched"],
        "reconcile": reconcile,
        "serving_redis_restart": serving,
        "tables": comparison,
        "faults": chaos.faults,
        "runs": chaos.runs,
        "reference_seconds": durations,
        "seconds": round(time.monotonic() - started, 1),
        "environment": environment(config=base),
    }
    ok = (
        totals["lost"] == totals["duplicated"] == totals["mismatched"] == 0
        and all(r["exit"] == 0 for r in reconcile.values())
        and (serving is None or serving["recovered"])
        and totals["rows"] > 0
    )
    result["passed"] = ok
    path = write_result("chaos_quick" if args.quick else "chaos", result, args.results_dir)
    print(
        f"chaos: {len(injected)} faults injected ({len(chaos.faults)} planned), {result['runs_recovered']} runs"
        f" recovered; {totals['rows']} rows compared: lost {totals['lost']}, duplicated {totals['duplicated']},"
        f" mismatched {totals['mismatched']}; reconcile exit {[r['exit'] for r in reconcile.values()]}"
        + (f"; serving through a Redis restart: {'ok' if serving['recovered'] else 'FAILED'}" if serving else "")
        + f" ({result['seconds']:.0f}s) -> {path}"
    )
    for _, _, scratch in sides.values():
        scratch.cleanup()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

"""Runs inside Feast's own virtual environment (no dip import): write the repo, apply, timed materialize, reads.

    <feast-venv>/bin/python benchmarks/feast_worker.py init <repo> <parquet_dir> <redis host:port,db=N> <project>
    <feast-venv>/bin/python benchmarks/feast_worker.py materialize <repo> <start iso> <end iso>
    <feast-venv>/bin/python benchmarks/feast_worker.py latency <dip repo> <feast repo> <rows> <requests>
    <feast-venv>/bin/python benchmarks/feast_worker.py read <repo> <post id> [<post id> ...]

``materialize`` prints one JSON line ``{"seconds": ..., "feast": <version>}``; the time covers
``FeatureStore.materialize`` only (imports and registry loading are not counted, in Feast's favour).
``latency`` times ``get_online_features`` of one post and of 100 posts from both repos (p50/p99 ms); ``read`` prints the
features of the given posts (``to_dict()``). The feature types are those of `dip feast export` (every int Int64).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

INT_FEATURES = ("views_delta", "likes_delta", "comments_delta", "shares_delta", "saves_delta", "snapshot_count")
INT_FEATURES += ("hashtag_count",)
FLOAT_FEATURES = ("engagement_ratio_last", "engagement_ratio_mean", "engagement_ratio_max", "growth_velocity")
FLOAT_FEATURES += ("hours_since_publish",)
BOOL_FEATURES = ("is_arabic", "is_latin")

DEFINITIONS = """
from datetime import timedelta

from feast import Entity, FeatureView, Field, FileSource, ValueType
from feast.types import Array, Bool, Float32, Float64, Int64

post = Entity(name="post", join_keys=["post_id"], value_type=ValueType.STRING)
source = FileSource(name="post_features_daily_source", path={parquet!r}, timestamp_field="computed_at")
post_features_daily = FeatureView(
    name="post_features_daily",
    entities=[post],
    ttl=timedelta(days=2),
    online=True,
    source=source,
    schema=[
        {fields}
    ],
)
"""


def init(repo: Path, parquet: str, redis: str, project: str) -> None:
    """Write feature_store.yaml + the feature view over ``parquet`` and run ``feast apply``."""
    from feast import FeatureStore
    from feast.repo_operations import apply_total

    repo.mkdir(parents=True, exist_ok=True)
    (repo / "feature_store.yaml").write_text(
        f"project: {project}\n"
        f"registry: {repo / 'registry.db'}\n"
        "provider: local\n"
        "online_store:\n  type: redis\n"
        f'  connection_string: "{redis}"\n'
        "offline_store:\n  type: file\n"
        "entity_key_serialization_version: 3\n",
        encoding="utf-8",
    )
    fields = [f'Field(name="{n}", dtype=Int64)' for n in INT_FEATURES]
    fields += [f'Field(name="{n}", dtype=Float64)' for n in FLOAT_FEATURES]
    fields += [f'Field(name="{n}", dtype=Bool)' for n in BOOL_FEATURES]
    fields += ['Field(name="caption_vec", dtype=Array(Float32))']
    text = DEFINITIONS.format(parquet=parquet, fields=",\n        ".join(fields))
    (repo / "definitions.py").write_text(text, encoding="utf-8")
    sys.path.insert(0, str(repo))  # feast imports the definitions as modules of the repo, like `feast apply`
    os.chdir(repo)
    apply_total(FeatureStore(repo_path=str(repo)).config, repo, skip_source_validation=True)


def materialize(repo: Path, start: str, end: str) -> None:
    import feast
    from feast import FeatureStore

    store = FeatureStore(repo_path=str(repo))
    started = time.perf_counter()
    store.materialize(datetime.fromisoformat(start), datetime.fromisoformat(end))
    print(json.dumps({"seconds": time.perf_counter() - started, "feast": feast.__version__}))


def _features() -> list[str]:
    return [f"post_features_daily:{n}" for n in (*INT_FEATURES, *FLOAT_FEATURES, *BOOL_FEATURES, "caption_vec")]


def latency(repos: dict[str, Path], rows: int, requests: int) -> None:
    """p50/p99 of ``get_online_features`` for one post and for 100 posts from each repo, alternating request by
    request between the repos (after 20 untimed calls each), so machine load hits every side alike."""
    from feast import FeatureStore

    stores = {side: FeatureStore(repo_path=str(repo)) for side, repo in repos.items()}
    features = _features()
    out: dict[str, dict] = {f"{side}_written": {} for side in stores}
    for name, size, n in (("single", 1, requests), ("batch_100", 100, max(requests // 10, 20))):
        times: dict[str, list[float]] = {side: [] for side in stores}
        for i in range(n + 20):
            entity_rows = [{"post_id": f"bp{(i * 7919 + j) % rows}"} for j in range(size)]
            for side, store in stores.items():
                started = time.perf_counter()
                result = store.get_online_features(features=features, entity_rows=entity_rows).to_dict()
                if i >= 20:
                    times[side].append((time.perf_counter() - started) * 1000)
                if result["views_delta"][0] is None:
                    raise SystemExit(f"{side}: no features stored for {entity_rows[0]}")
        for side, values in times.items():
            cuts = statistics.quantiles(values, n=100, method="inclusive")  # the interpolation of _common.percentile
            out[f"{side}_written"][name] = {"requests": n, "p50_ms": round(cuts[49], 3), "p99_ms": round(cuts[98], 3)}
    print(json.dumps(out))


def read(repo: Path, ids: list[str]) -> None:
    from feast import FeatureStore

    store = FeatureStore(repo_path=str(repo))
    rows = [{"post_id": i} for i in ids]
    print(json.dumps(store.get_online_features(features=_features(), entity_rows=rows).to_dict()))


def main() -> int:
    command, repo, *rest = sys.argv[1:]
    if command == "init":
        init(Path(repo), rest[0], rest[1], rest[2])
    elif command == "materialize":
        materialize(Path(repo), rest[0], rest[1])
    elif command == "latency":
        latency({"dip": Path(repo), "feast": Path(rest[0])}, int(rest[1]), int(rest[2]))
    elif command == "read":
        read(Path(repo), rest)
    else:
        raise SystemExit(f"unknown command {command!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

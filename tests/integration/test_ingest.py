"""Ingest over real HTTP (simulator in a thread) into the real Kafka broker: exact records, faults, reruns, replay."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from dip.config import Config, load_config
from dip.connectors.ingest import IngestRun, SourceSummary
from dip.connectors.raw_zone import LocalStore, RawZone, S3Store
from dip.connectors.replay import run_replay
from dip_local.simulator import build_dataset, create_app
from dip_local.simulator.server import background_server, free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SEED = 42
IG_IDS = ["17841400000000101", "17841400000000102", "17841400000000103"]
TT_IDS = ["_000LinaAbayasOpenId", "_000NoorModestOpenId", "_000DubaiAbayaOpenId"]
ENVELOPE_KEYS = [
    "source",
    "entity",
    "schema_version",
    "account_id",
    "entity_id",
    "fetched_at",
    "request_id",
    "run_id",
    "payload",
]
DLQ_KEYS = ["stage", "error_type", "error_message", "source", "entity", "original", "failed_at"]


def expected_keys() -> set[str]:
    """Every key one full ingest of the seeded simulator must produce (written from the dataset, not the code)."""
    data = build_dataset(SEED)
    keys = set()
    for ig_id, account in data.instagram.items():
        keys |= {f"instagram:account:{ig_id}"}
        keys |= {f"instagram:audience:{ig_id}:{b}" for b in ("age", "gender", "country")}
        keys |= {f"instagram:media:{p.id}" for p in account.posts}
        keys |= {f"instagram:media_insights:{p.id}" for p in account.posts}
    for open_id, account in data.tiktok.items():
        keys |= {f"tiktok:user:{open_id}"} | {f"tiktok:video:{p.id}" for p in account.posts}
    return keys


SERVICE_ADDRESSES = ("DIP__KAFKA__BOOTSTRAP_SERVERS", "DIP__REDIS__HOST", "DIP__REDIS__PORT")


def make_config(tmp_path: Path, base_url: str, tag: str, **overrides: str) -> Config:
    environ = {
        **{k: v for k, v in os.environ.items() if k in SERVICE_ADDRESSES},  # the broker the stack runs on
        "DIP_HOME": str(ROOT),
        "DIP__LAKE__ROOT": str(tmp_path / "lake"),
        "DIP__STATE_DIR": str(tmp_path / "state"),
        "DIP__KAFKA__TOPICS__RAW_PREFIX": f"test.{tag}.raw.",
        "DIP__KAFKA__TOPICS__DLQ": f"test.{tag}.dlq",
        "DIP__CONNECTORS__INSTAGRAM__BASE_URL": base_url,
        "DIP__CONNECTORS__TIKTOK__BASE_URL": base_url,
        "DIP__CONNECTORS__INSTAGRAM__APP_SECRET": "dev-ig-app-secret",
        "DIP__CONNECTORS__INSTAGRAM__ACCESS_TOKEN": "dev-ig-user-token",
        "DIP__CONNECTORS__TIKTOK__CLIENT_SECRET": "dev-tt-client-secret",
        "DIP__CONNECTORS__TIKTOK__REFRESH_TOKENS": json.dumps({i: f"dev-refresh-{i}" for i in TT_IDS}),
        "DIP__CONNECTORS__INSTAGRAM__REQUESTS_PER_SECOND": "500",
        "DIP__CONNECTORS__TIKTOK__REQUESTS_PER_SECOND": "500",
        "DIP__CONNECTORS__BACKOFF_INITIAL_S": "0.02",
        "DIP__CONNECTORS__BACKOFF_MAX_S": "0.1",
        "DIP__CONNECTORS__RETRY_AFTER_MAX_S": "0.2",
        **overrides,
    }
    return load_config("local", environ=environ)


def read_topic(config: Config, topic: str) -> list[tuple[str, bytes, dict[str, bytes]]]:
    """Every message of ``topic`` from the beginning: (key, value, headers)."""
    consumer = Consumer(
        {
            "bootstrap.servers": config.kafka.bootstrap_servers,
            "group.id": f"t-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    try:
        meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if meta is None or meta.error is not None:
            return []
        parts = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in meta.partitions]
        ends = {p.partition: consumer.get_watermark_offsets(p, timeout=10)[1] for p in parts}
        remaining = {p: end for p, end in ends.items() if end > 0}
        consumer.assign(parts)
        out = []
        deadline = time.monotonic() + 30
        while remaining and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            out.append((msg.key().decode(), msg.value(), dict(msg.headers() or [])))
            if msg.offset() + 1 >= remaining.get(msg.partition(), 0):
                remaining.pop(msg.partition(), None)
        assert not remaining, f"could not read {topic} to its end"
        return out
    finally:
        consumer.close()


def latest_payloads(messages: list[tuple[str, bytes, dict[str, bytes]]]) -> dict[str, dict]:
    return {key: json.loads(value)["payload"] for key, value, _ in messages}


@pytest.fixture()
def simulator() -> Iterator[tuple[str, object]]:
    app = create_app(SEED)
    with background_server(app) as url:
        yield url, app.state.sim


def ingest(config: Config, selector: str = "all") -> tuple[IngestRun, dict[str, SourceSummary]]:
    run = IngestRun(config)
    return run, {s.source: s for s in run.run(selector)}


def test_full_ingest_exact_records_raw_zone_and_quiet_rerun(tmp_path: Path, simulator: tuple[str, object]) -> None:
    url, _ = simulator
    config = make_config(tmp_path, url, uuid.uuid4().hex[:10])
    run, summary = ingest(config)
    assert summary["instagram"].errors == [] and summary["tiktok"].errors == []
    assert (summary["instagram"].records, summary["tiktok"].records) == (72, 33)
    ig = read_topic(config, config.kafka.topics.raw_prefix + "instagram")
    tt = read_topic(config, config.kafka.topics.raw_prefix + "tiktok")
    assert (len(ig), len(tt)) == (72, 33)
    assert {k for k, _, _ in ig + tt} == expected_keys()
    assert read_topic(config, config.kafka.topics.dlq) == []

    envelopes = [json.loads(v) for _, v, _ in ig + tt]
    assert all(list(e) == ENVELOPE_KEYS for e in envelopes)
    assert {e["run_id"] for e in envelopes} == {run.run_id}
    assert {e["schema_version"] for e in envelopes} == {1}
    assert all(e["fetched_at"].endswith("Z") and len(e["fetched_at"]) == 27 for e in envelopes)
    by_key = {k: json.loads(v) for k, v, _ in ig + tt}
    lina = by_key["instagram:account:17841400000000101"]
    assert lina["payload"] == {
        "username": "lina.abayas",
        "followers_count": 85810,
        "media_count": 10,
        "id": "17841400000000101",
    }
    assert (lina["account_id"], lina["entity_id"]) == ("17841400000000101", "17841400000000101")
    hidden = by_key["instagram:media:18000000000001001"]["payload"]
    assert "like_count" not in hidden and hidden["timestamp"] == "2026-11-24T21:00:00+0000"
    assert "#عباية" in hidden["caption"]
    video = by_key["tiktok:video:7300000000000001000"]["payload"]
    assert list(video) == [
        "id",
        "create_time",
        "title",
        "video_description",
        "share_url",
        "duration",
        "view_count",
        "like_count",
        "comment_count",
        "share_count",
    ]
    assert video["create_time"] == 1795629600
    audience = by_key["instagram:audience:17841400000000101:country"]
    assert audience["entity_id"] == "17841400000000101:country"
    assert audience["payload"]["data"][0]["total_value"]["breakdowns"][0]["dimension_keys"] == ["country"]
    insights = by_key["instagram:media_insights:18000000000001000"]["payload"]["data"]
    assert [m["name"] for m in insights] == ["reach", "saved", "views", "shares", "total_interactions"]

    # raw zone: one gzip body per stored response, unmodified except the redacted token in paging URLs
    raw = RawZone(LocalStore(tmp_path / "lake"))
    stored = list(raw.read_day("instagram", envelopes[0]["fetched_at"][:10]))
    assert len(stored) == summary["instagram"].responses == 51
    media_page = next(
        s
        for s in stored
        if s.meta["entity"] == "media"
        and s.meta["seq"] == min(x.meta["seq"] for x in stored if x.meta["entity"] == "media")
    )
    body = json.loads(media_page.body)
    assert len(body["data"]) == 4 and "access_token=REDACTED" in body["paging"]["next"]
    assert b"IGLL" not in media_page.body and "REDACTED" in media_page.meta["url"]

    # a rerun against the unchanged simulator publishes nothing
    _, again = ingest(config)
    assert (again["instagram"].records, again["tiktok"].records) == (0, 0)
    assert again["instagram"].unchanged > 0 and again["instagram"].errors == []
    assert len(read_topic(config, config.kafka.topics.raw_prefix + "instagram")) == 72

    # metrics move: followers and audience change; the expired tokens are renewed on the way
    httpx.post(f"{url}/_sim/advance", json={"ticks": 1}).raise_for_status()
    httpx.post(f"{url}/_sim/faults", json={"expire_tokens": True}).raise_for_status()
    moved_run, moved = ingest(config)
    assert moved["instagram"].errors == [] and moved["tiktok"].errors == []
    new_ig = [
        m
        for m in read_topic(config, config.kafka.topics.raw_prefix + "instagram")
        if json.loads(m[1])["run_id"] == moved_run.run_id
    ]
    assert len(new_ig) == moved["instagram"].records
    new_keys = [k for k, _, _ in new_ig]
    assert {k for k in new_keys if ":account:" in k} == {f"instagram:account:{i}" for i in IG_IDS}
    assert (
        json.loads(next(v for k, v, _ in new_ig if k.endswith("17841400000000101") and ":account:" in k))["payload"][
            "followers_count"
        ]
        == 85810 + 8
    )


def test_a_refused_media_or_a_broken_account_stops_nothing_else(tmp_path: Path, simulator: tuple[str, object]) -> None:
    """Insights code 10 on some media: recorded and skipped, the account goes on. A media list answered with a
    JSON list: that account's error (its body dead-lettered), while the other accounts and TikTok complete."""
    url, _ = simulator
    config = make_config(tmp_path, url, uuid.uuid4().hex[:10])
    broken = IG_IDS[0]
    faults = {"insights_unavailable_every": 7, "broken_accounts": [broken]}
    httpx.post(f"{url}/_sim/faults", json=faults).raise_for_status()
    run, summary = ingest(config)

    data = build_dataset(SEED)
    refused = {p.id for a, acc in data.instagram.items() if a != broken for p in acc.posts if int(p.id) % 7 == 0}
    assert len(refused) == 3
    lost = {k for k in expected_keys() if k.startswith("instagram:") and k != f"instagram:account:{broken}"}
    lost = {k for k in lost if any(p.id in k for p in data.instagram[broken].posts) or k.endswith(broken)}
    lost |= {k for k in expected_keys() if k.startswith(f"instagram:audience:{broken}:")}
    lost |= {f"instagram:media_insights:{media_id}" for media_id in refused}
    published = read_topic(config, config.kafka.topics.raw_prefix + "instagram")
    published += read_topic(config, config.kafka.topics.raw_prefix + "tiktok")
    assert {k for k, _, _ in published} == expected_keys() - lost
    assert len(lost) == 2 * 10 + 3 + 3  # none of it silently: the account is an error, the insights skipped

    ig = summary["instagram"]
    assert [e.split(" (")[0] for e in ig.errors] == [
        f"instagram/{broken}: UnexpectedResponse: expected a JSON object from media, got list"
    ]
    assert ig.skipped == {
        "media_insights code 10: Graph API error 10/None (OAuthException): "
        "(#10) Not enough viewers for the media to show insights": 3
    }
    assert summary["tiktok"].errors == [] and summary["tiktok"].records == 33
    assert run.metrics.value("dip_connector_item_errors_total", source="instagram", code="10") == 3
    dlq = [json.loads(v) for _, v, _ in read_topic(config, config.kafka.topics.dlq)]
    assert [(d["source"], d["entity"], d["error_type"]) for d in dlq] == [("instagram", "media", "malformed_response")]
    assert json.loads(dlq[0]["original"]) == [{"unexpected": "a list where the Graph API answers an object"}]
    assert dlq[0]["error_message"] == "expected a JSON object from media, got list"

    # the faults gone, the next run fetches what was missing; nothing else is published twice
    httpx.post(f"{url}/_sim/faults", json={}).raise_for_status()
    _, again = ingest(config)
    assert again["instagram"].errors == [] and again["instagram"].skipped == {}
    republished = read_topic(config, config.kafka.topics.raw_prefix + "instagram")
    assert {k for k, _, _ in republished} == {k for k in expected_keys() if k.startswith("instagram:")}
    assert len(republished) == 72


def test_no_secret_reaches_any_log_record(
    tmp_path: Path, simulator: tuple[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    """Every logger at DEBUG (httpx/httpcore URLs, retries, token refreshes, an account that fails with a
    traceback): no configured secret and no token the API issued appears in any message or traceback."""
    import logging

    url, sim = simulator
    config = make_config(tmp_path, url, uuid.uuid4().hex[:10])
    caplog.set_level(logging.DEBUG)
    faults = {"expire_tokens": True, "error_500_every": 11, "broken_accounts": [IG_IDS[1]]}
    httpx.post(f"{url}/_sim/faults", json=faults).raise_for_status()
    _, summary = ingest(config)
    issued = set(sim.tokens)  # expiring clears the simulator's list: keep what it issued so far
    httpx.post(f"{url}/_sim/faults", json={"expire_tokens": True}).raise_for_status()  # 401, then a refresh
    ingest(config)
    issued |= set(sim.tokens)
    assert len(summary["instagram"].errors) == 1 and summary["instagram"].retries > 0
    logging.getLogger("dip.test").exception(
        "boom", exc_info=RuntimeError(f"token {next(iter(sim.tokens))} in a traceback")
    )
    secrets = ["dev-ig-app-secret", "dev-ig-user-token", "dev-tt-client-secret", *(f"dev-refresh-{i}" for i in TT_IDS)]
    secrets += sorted(issued)  # every access/refresh token the simulated APIs issued
    assert len(secrets) > 10
    text = (
        "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.stack_info or ''}" for r in caplog.records)
        + caplog.text
    )
    assert "access_token=REDACTED" in text and "in a traceback" in text
    assert [s for s in secrets if s in text] == []


@pytest.mark.parametrize("source", ["instagram", "tiktok"])
def test_a_token_expiring_in_the_middle_of_paging_is_refreshed_and_nothing_differs(
    tmp_path: Path, simulator: tuple[str, object], source: str
) -> None:
    url, sim = simulator
    tag = uuid.uuid4().hex[:10]
    clean = make_config(tmp_path / "clean", url, tag + "c")
    _, reference = ingest(clean, source)
    requests = sim.requests
    assert requests > 20
    expiring = make_config(tmp_path / "expiring", url, tag)
    httpx.post(f"{url}/_sim/faults", json={"expire_tokens_after": requests // 2}).raise_for_status()
    _, summary = ingest(expiring, source)
    assert summary[source].errors == [] and summary[source].records == reference[source].records
    assert sim.requests > 2 * requests  # a 401 and a token refresh happened half way
    topic = "{}" + source
    assert latest_payloads(read_topic(expiring, topic.format(expiring.kafka.topics.raw_prefix))) == latest_payloads(
        read_topic(clean, topic.format(clean.kafka.topics.raw_prefix))
    )


def test_faults_give_the_same_final_content_and_malformed_pages_in_dlq(
    tmp_path: Path, simulator: tuple[str, object]
) -> None:
    url, _ = simulator
    tag = uuid.uuid4().hex[:10]
    config = make_config(tmp_path / "faulty", url, tag)
    for source in ("instagram", "tiktok"):
        httpx.post(
            f"{url}/_sim/faults",
            json={"rate_limit_every": 9, "rate_limit_burst": 2, "error_500_every": 13, "malformed_pages": 1},
        ).raise_for_status()
        _, summary = ingest(config, source)
        assert summary[source].errors == []
        assert summary[source].dlq == 1
        assert summary[source].retries >= 3 and summary[source].rate_limited >= 2
    httpx.post(f"{url}/_sim/faults", json={}).raise_for_status()
    clean = make_config(tmp_path / "clean", url, tag + "c")
    ingest(clean)
    for source in ("instagram", "tiktok"):
        faulty = latest_payloads(read_topic(config, config.kafka.topics.raw_prefix + source))
        reference = latest_payloads(read_topic(clean, clean.kafka.topics.raw_prefix + source))
        assert faulty == reference
    dlq = read_topic(config, config.kafka.topics.dlq)
    assert len(dlq) == 2
    values = [json.loads(v) for _, v, _ in dlq]
    assert [list(v) for v in values] == [DLQ_KEYS, DLQ_KEYS]
    assert sorted((v["source"], v["entity"], v["stage"], v["error_type"]) for v in values) == [
        ("instagram", "media", "ingest", "malformed_response"),
        ("tiktok", "video", "ingest", "malformed_response"),
    ]
    for value in values:
        with pytest.raises(ValueError):
            json.loads(value["original"])
        assert value["original"].startswith('{"data": [{"id": "18000000') or value["original"].startswith(
            '{"data": {"videos": [{"id": "73000000'
        )
    assert {h["error_type"] for _, _, h in dlq} == {b"malformed_response"}


def test_replay_republishes_byte_identical_messages(tmp_path: Path, simulator: tuple[str, object]) -> None:
    url, _ = simulator
    tag = uuid.uuid4().hex[:10]
    config = make_config(tmp_path, url, tag)
    ingest(config, "tiktok")
    original = read_topic(config, config.kafka.topics.raw_prefix + "tiktok")
    date = json.loads(original[0][1])["fetched_at"][:10]
    replay_config = config.model_copy(
        update={
            "kafka": config.kafka.model_copy(
                update={"topics": config.kafka.topics.model_copy(update={"raw_prefix": f"test.{tag}.replay."})}
            )
        }
    )
    summary = run_replay(replay_config, "tiktok", date)
    assert (summary.records, summary.dlq) == (33, 0)
    replayed = read_topic(replay_config, f"test.{tag}.replay.tiktok")
    assert sorted((k, v) for k, v, _ in replayed) == sorted((k, v) for k, v, _ in original)


@pytest.fixture()
def moto_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_s3_raw_zone_round_trip(tmp_path: Path, simulator: tuple[str, object], moto_s3: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=moto_s3).create_bucket(Bucket="dip-lake")
    store = S3Store("dip-lake", "lake", endpoint_url=moto_s3)
    store.put_new("raw/x/a.json.gz", b"first")
    with pytest.raises(FileExistsError):
        store.put_new("raw/x/a.json.gz", b"second")
    assert store.get("raw/x/a.json.gz") == b"first"

    url, _ = simulator
    config = make_config(
        tmp_path,
        url,
        uuid.uuid4().hex[:10],
        DIP__LAKE__ROOT="s3://dip-lake/lake",
        DIP__CONNECTORS__S3_ENDPOINT_URL=moto_s3,
    )
    _, summary = ingest(config, "tiktok")
    assert summary["tiktok"].errors == [] and summary["tiktok"].records == 33
    keys = store.list("raw/source=tiktok/")
    bodies = [k for k in keys if k.endswith(".json.gz")]
    assert len(bodies) == summary["tiktok"].responses == 21
    assert all("/entity=user/" in k or "/entity=video/" in k for k in bodies)
    user_bodies = [json.loads(gzip.decompress(store.get(k))) for k in bodies if "/entity=user/" in k]
    assert sorted(b["data"]["user"]["open_id"] for b in user_bodies) == sorted(TT_IDS)

    # the ingest state is in the bucket too (nothing on local disk): a run on a fresh machine continues from it
    assert sorted(store.list("_state/ingest/")) == [f"_state/ingest/tiktok/{i}.json" for i in sorted(TT_IDS)]
    saved = json.loads(store.get(f"_state/ingest/tiktok/{TT_IDS[0]}.json"))
    assert saved["streams"]["video"]["hwm"] > 0 and len(saved["fingerprints"]) == 11
    assert not (tmp_path / "state" / "ingest-state").exists() and not (tmp_path / "lake").exists()
    _, rerun = ingest(config, "tiktok")
    # nothing new is published, and paging stopped at the saved high-water mark minus the lookback (27 of 33)
    assert (rerun["tiktok"].records, rerun["tiktok"].unchanged, rerun["tiktok"].errors) == (0, 27, [])


def test_sigkill_mid_run_then_rerun_loses_nothing(tmp_path: Path) -> None:
    app = create_app(SEED)
    with background_server(app) as url:
        # slow every response so the run lasts ~10 s: long enough to be killed in the middle
        httpx.post(f"{url}/_sim/faults", json={"slow_every": 1, "slow_s": 0.2}).raise_for_status()
        tag = uuid.uuid4().hex[:10]
        config = make_config(tmp_path, url, tag)
        env = {
            **os.environ,
            "DIP_HOME": str(ROOT),
            "DIP__LAKE__ROOT": str(tmp_path / "lake"),
            "DIP__STATE_DIR": str(tmp_path / "state"),
            "DIP__KAFKA__TOPICS__RAW_PREFIX": f"test.{tag}.raw.",
            "DIP__KAFKA__TOPICS__DLQ": f"test.{tag}.dlq",
            "DIP__CONNECTORS__INSTAGRAM__BASE_URL": url,
            "DIP__CONNECTORS__INSTAGRAM__APP_SECRET": "dev-ig-app-secret",
            "DIP__CONNECTORS__INSTAGRAM__ACCESS_TOKEN": "dev-ig-user-token",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "dip.cli", "ingest", "--source", "instagram", "--env", "local"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        state_dir = tmp_path / "lake" / "_state" / "ingest" / "instagram"
        deadline = time.monotonic() + 180  # the subprocess start alone can take long on a loaded machine
        while time.monotonic() < deadline and len(list(state_dir.glob("*.json"))) < 2:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        before = read_topic(config, config.kafka.topics.raw_prefix + "instagram")
        assert 0 < len(before) < 72
        httpx.post(f"{url}/_sim/faults", json={}).raise_for_status()
        _, summary = ingest(config, "instagram")
        assert summary["instagram"].errors == []
    after = read_topic(config, config.kafka.topics.raw_prefix + "instagram")
    assert {k for k, _, _ in after} == {k for k in expected_keys() if k.startswith("instagram:")}
    payloads: dict[str, bytes] = {}
    for key, value, _ in after:
        payload = json.dumps(json.loads(value)["payload"], sort_keys=True).encode()
        assert payloads.setdefault(key, payload) == payload, f"{key} sent twice with different payloads"

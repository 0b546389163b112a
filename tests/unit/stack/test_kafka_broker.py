"""Broker properties rendered from config."""

import base64

from dip.config import Config
from dip_local.stack.kafka_broker import cluster_id, host_port, server_properties


def test_host_port_takes_first_server() -> None:
    assert host_port("10.0.0.1:9094,10.0.0.2:9094") == ("10.0.0.1", 9094)


def test_server_properties_for_combined_kraft_node(tmp_path) -> None:
    config = Config.model_validate(
        {
            "env": "t",
            "lake": {"root": "file:///tmp/l"},
            "kafka": {"bootstrap_servers": "127.0.0.1:19092", "topics": {"partitions": 2}},
            "stack": {"kafka": {"node_id": 3, "controller_port": 19093}},
        }
    )
    props = dict(line.split("=", 1) for line in server_properties(config, tmp_path).splitlines())
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "3"
    assert props["controller.quorum.voters"] == "3@127.0.0.1:19093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["log.dirs"] == str(tmp_path)
    assert props["num.partitions"] == "2"
    assert props["offsets.topic.replication.factor"] == "1"


def test_cluster_id_is_16_bytes_base64url_never_leading_dash() -> None:
    for _ in range(500):  # a leading '-' would come up ~1 in 64 draws without the guard
        cid = cluster_id()
        assert len(cid) == 22
        assert len(base64.urlsafe_b64decode(cid + "==")) == 16
        assert not cid.startswith("-")

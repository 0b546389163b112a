"""Property-based run of the committed OpenAPI spec (docs/openapi.json) against the service over real HTTP.

uvicorn on a free port, the real Redis, scoring on with a small model and a model loader; schemathesis
generates valid and invalid requests (a bounded, derandomised number per operation) and checks that no
answer is a 5xx and that every status code, content type and body is the one the spec documents. Kafka is
replaced by a no-op producer so generated scores are not published to the shared ``dip.predictions``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from dip.config import Config, load_config
from dip.online.codec import FeatureValue
from dip.serving import create_app
from tests.integration.test_serving import serving

pytestmark = pytest.mark.integration

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
API_KEY = "schemathesis-key-1"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_path(SPEC)


class HashtagModel:
    """Scores any feature dict (absent, null or text features count as 0)."""

    name, version = "dip-engagement", "1"

    def predict(self, features: Mapping[str, FeatureValue]) -> float:
        value = features.get("hashtag_count")
        return 0.1 * value if isinstance(value, int | float) else 0.0


class NoProducer:
    def produce(self, topic: str, value: bytes, key: bytes, on_delivery: object) -> None: ...

    def poll(self, timeout: float) -> int:
        return 0

    def flush(self, timeout: float) -> int:
        return 0


@pytest.fixture(scope="module")
def base_url(stack: Config) -> Iterator[str]:
    key = {"sha256": hashlib.sha256(API_KEY.encode()).hexdigest(), "scopes": ["features:*", "score", "admin"]}
    environ = {
        **os.environ,
        "DIP__LAKE__ROOT": stack.lake.root,
        "DIP__SERVING__API_KEYS__FUZZ": json.dumps(key),
        "DIP__SERVING__SCORING__ENABLED": "true",
    }
    config = load_config("local", environ=environ)
    app = create_app(config, model=HashtagModel(), prediction_producer=NoProducer(), model_loader=HashtagModel)
    with serving(app) as url:
        yield url


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_spec(case: schemathesis.Case, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers={"X-API-Key": API_KEY}, checks=CHECKS, timeout=10)

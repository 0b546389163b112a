"""`dip deploy render --target s3-lifecycle`: the bucket's lifecycle rules and default encryption, checked against
the S3 API's own input shapes (botocore's service model and ParamValidator, what boto3 runs before sending)."""

from __future__ import annotations

import json
from pathlib import Path

import botocore.session
import pytest
from botocore.validate import ParamValidator
from typer.testing import CliRunner

from dip.cli import app
from dip.config import Config
from dip.deploy import render_config
from dip.lifecycle.retention import s3_lifecycle_requests


@pytest.fixture(scope="module")
def s3_model():
    return botocore.session.get_session().get_service_model("s3")


def _errors(model, operation: str, params: dict) -> str:
    report = ParamValidator().validate(params, model.operation_model(operation).input_shape)
    return report.generate_report()


def _emr() -> Config:
    return render_config("emr", environ={})


def test_rendered_requests_are_valid_s3_api_input(s3_model) -> None:
    requests = s3_lifecycle_requests(_emr())
    assert sorted(requests) == ["PutBucketEncryption", "PutBucketLifecycleConfiguration"]
    for operation, params in requests.items():
        assert _errors(s3_model, operation, params) == ""


def test_raw_zone_archived_then_expired_and_sse_kms_from_config() -> None:
    config = _emr()
    config.lifecycle.raw.archive_after_days = 45
    config.lifecycle.raw.archive_storage_class = "DEEP_ARCHIVE"
    requests = s3_lifecycle_requests(config)
    lifecycle = requests["PutBucketLifecycleConfiguration"]
    assert lifecycle["Bucket"] == "dip-lake"
    assert lifecycle["LifecycleConfiguration"]["Rules"] == [
        {
            "ID": "dip-raw-zone-archive",
            "Filter": {"Prefix": "prod/raw/"},
            "Status": "Enabled",
            "Transitions": [{"Days": 45, "StorageClass": "DEEP_ARCHIVE"}],
            "Expiration": {"Days": 730},
        },
        {
            "ID": "dip-abort-incomplete-uploads",
            "Filter": {"Prefix": "prod/"},
            "Status": "Enabled",
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        },
    ]
    assert requests["PutBucketEncryption"] == {
        "Bucket": "dip-lake",
        "ServerSideEncryptionConfiguration": {
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": "alias/dip-lake",
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    }


def test_no_expiry_and_no_kms_key_still_valid(s3_model) -> None:
    config = _emr()
    config.lifecycle.raw.expire_after_days = None
    config.lifecycle.kms_key_id = None
    requests = s3_lifecycle_requests(config)
    assert "Expiration" not in requests["PutBucketLifecycleConfiguration"]["LifecycleConfiguration"]["Rules"][0]
    default = requests["PutBucketEncryption"]["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert default["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    for operation, params in requests.items():
        assert _errors(s3_model, operation, params) == ""


def test_a_broken_rule_is_caught_by_the_validator(s3_model) -> None:
    """The check can fail: a misspelled key or a string number is reported by the S3 model."""
    params = s3_lifecycle_requests(_emr())["PutBucketLifecycleConfiguration"]
    params["LifecycleConfiguration"]["Rules"][0]["Transitions"][0]["Days"] = "30"
    params["LifecycleConfiguration"]["Rules"][1]["Expiry"] = {"Days": 1}
    report = _errors(s3_model, "PutBucketLifecycleConfiguration", params)
    assert "Invalid type for parameter LifecycleConfiguration.Rules[0].Transitions[0].Days" in report
    assert 'Unknown parameter in LifecycleConfiguration.Rules[1]: "Expiry"' in report


def test_a_local_lake_is_refused_with_the_reason(test_config: Config) -> None:
    with pytest.raises(ValueError, match=r"needs an s3:// lake\.root"):
        s3_lifecycle_requests(test_config)


def test_cli_writes_the_requests(tmp_path: Path) -> None:
    out = tmp_path / "bucket.json"
    result = CliRunner().invoke(app, ["deploy", "render", "--target", "s3-lifecycle", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == s3_lifecycle_requests(_emr())
    local = CliRunner().invoke(app, ["deploy", "render", "--target", "s3-lifecycle", "--env", "local"])
    assert local.exit_code == 2
    assert "needs an s3:// lake.root" in local.output

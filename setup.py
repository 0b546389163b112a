"""Packaging for DIP: installs the ``dip`` package from ``libs/`` with the ``dip`` console script.

Requirements are compatible *ranges*, so installing the wheel on a cluster keeps the cluster's own
numpy/pandas/pyarrow/mlflow; the exact versions the project is tested with are pinned in
``conf/constraints.txt``, which `make setup` passes with ``-c``. The core install is what jobs import on a
cluster's driver and executors (pyspark and delta-spark are the cluster's); each other role is an extra.
The dev-only commands (simulator, local stack, jar resolution, demo) are the separate ``dip-local`` (``local/``).
"""

from setuptools import find_packages, setup

# Spark is provided by the cluster on Databricks/EMR; locally the ``local`` extra brings it.
# Default runtime: the Spark 3.5 line (EMR 7, Databricks LTS), the line Hudi's Spark bundle is served for.
# The Spark 4.0 profile (`make test-spark4`) installs conf/spark4-requirements.txt over this in .venv-spark4.
SPARK = [
    "pyspark>=3.5,<4.1",
    "delta-spark>=3.3,<4.5",
]

# What the jobs import on a cluster (tests/unit/test_core_requirements.py checks it against the imports).
INSTALL_REQUIRES = [
    "pydantic>=2.10,<3",
    "pyyaml>=6.0,<7",
    "typer>=0.15,<1",  # the `dip` console script
    "rich>=13.7,<16",
    "jsonschema>=4.21,<5",  # the payload schema registry silver parses by
    "confluent-kafka>=2.6,<3",  # DLQ, replay, reconcile
    "redis>=5.0,<8",  # online writers
    "mmh3>=4.0,<6",  # the field names of Feast's online format (murmur3, as Feast computes them)
    "prometheus-client>=0.20,<1",  # job and stream metrics
    "boto3>=1.34,<2",  # secrets from AWS Secrets Manager, the raw zone on S3
    "hvac>=2.1,<3",  # secrets from Vault
    "httpx>=0.27,<1",  # the connectors' HTTP client; `dip status` reads the Pushgateway
    # pyspark.ml (the caption features' HashingTF, vector_to_array) imports them; pyspark declares them only as extras
    "numpy>=1.23,<3",
    "pandas>=1.5,<3",
    # run events in the ecosystem's lineage format (file/console/HTTP transports), emitted by dip.job_runner
    "openlineage-python>=1.30,<2",
]

EXTRAS = {
    "local": SPARK,
    # ingest from the platform APIs (retries with Retry-After)
    # ingest records its run in <lake>/_runs without a JVM: delta-rs and Arrow (no pyspark)
    "connectors": ["tenacity>=8.2,<10", "deltalake>=1.0,<2", "pyarrow>=14,<24"],
    # the FastAPI feature and scoring service
    "serving": [
        "fastapi>=0.115,<1",
        "uvicorn>=0.30,<1",
        "PyJWT>=2.8,<3",
        "hiredis>=3.0,<4",  # compiled reply parser: ~3x faster pipelined HGETALLs for the serving API
        "plotly>=6,<8",  # the seller dashboard serves the package's own plotly.min.js (no CDN)
        "deltalake>=1.0,<2",  # the dashboard reads the gold tables without a JVM
        "pyarrow>=14,<24",
    ],
    # training and the model registry (`dip train`; the service loads the `champion` alias)
    "ml": [
        "mlflow-skinny>=3.1,<4",  # the client only; the full server is a dev tool
        "sqlalchemy>=2.0,<3",  # the default local tracking store is SQLite (ml.tracking_uri: null)
        "alembic>=1.13,<2",
        "scikit-learn>=1.3,<2",
        "skops>=0.9,<1",  # the model's persistence format, imported directly
    ],
    # the Great Expectations suites silver runs per micro-batch
    "quality": ["great-expectations>=1.3,<2"],
    # traces over OTLP/HTTP; the SDK is imported only when configured
    "otel": [
        "opentelemetry-api>=1.27,<2",
        "opentelemetry-sdk>=1.27,<2",
        "opentelemetry-exporter-otlp-proto-http>=1.27,<2",
    ],
    # JVM-free reads of the lake's tables (delta-rs, hudi-rs): the online push's Hudi commit timeline, notebook helpers
    "readers": ["deltalake>=1.0,<2", "hudi>=0.5,<0.6", "pyarrow>=14,<24"],
}
ROLES = ["local", "connectors", "serving", "ml", "quality", "otel", "readers"]
EXTRAS["dev"] = [
    *(requirement for role in ROLES for requirement in EXTRAS[role]),
    "numpy>=1.26,<2",  # the Spark 3.5 line supports NumPy 1.x (pyspark.pandas and pyspark.testing use np.NaN)
    "mlflow>=3.1,<4",  # the full MLflow (server, UI) for local work
    "pytest>=8,<10",
    "pytest-timeout>=2.3,<3",
    "ruff>=0.15,<0.18",
    "import-linter>=2.1,<3",  # the layers contract in .importlinter (make lint, tests/unit/test_layers.py)
    "moto[server]>=5.0,<6",
    # property-based API tests against docs/openapi.json (tests/integration/test_schemathesis.py)
    "schemathesis>=4.0,<5",
    # fuzzing of the envelope parser, silver normalisers and online codec (tests/unit/fuzz)
    "hypothesis>=6.100,<7",
    # notebooks/ run top to bottom in the integration tests (tests/integration/notebook_runner.py)
    # their sources are jupytext percent-format .py files (notebooks/README.md)
    "jupytext>=1.16,<2",
    "nbclient>=0.10,<1",
    "nbformat>=5.10,<6",
    "ipykernel>=6.29,<8",
    "matplotlib>=3.8,<4",
    # the dashboard's browser test drives Debian's chromium through /usr/bin/chromedriver (no browser download)
    "selenium>=4.30,<5",
]

setup(
    name="dip",
    version="0.1.0",
    description="DIP: data ingestion pipeline for social-media analytics (Kafka, Spark, Delta, Hudi, Redis).",
    python_requires=">=3.11,<3.13",  # EMR 7 / Databricks 15.4 LTS run 3.11, Databricks 17.x runs 3.12
    package_dir={"": "libs"},
    packages=find_packages("libs"),
    include_package_data=True,
    package_data={"dip.serving.dashboard": ["static/*"]},
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["dip=dip.cli:main"]},
)

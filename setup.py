"""Packaging for DIP: installs the ``dip`` package from ``libs/`` with the ``dip`` console script."""

from setuptools import find_packages, setup

# Spark is provided by the cluster on Databricks/EMR; locally the ``local`` extra brings it.
# Default runtime: the Spark 3.5 line (EMR 7, Databricks LTS), the line Hudi's Spark bundle is served for.
# The Spark 4.0 profile (`make test-spark4`) installs requirements-spark4.txt over this in .venv-spark4.
SPARK = [
    "pyspark==3.5.9",
    "delta-spark==3.3.2",
]

INSTALL_REQUIRES = [
    "pydantic==2.14.4",
    "pyyaml==6.0.3",
    "typer==0.29.2",
    "rich==15.0.0",
    "confluent-kafka==2.16.1",
    "redis==7.4.1",
    "hiredis==3.5.0",  # compiled reply parser: ~3x faster pipelined HGETALLs for the serving API
    "boto3==1.44.5",
    "tenacity==9.2.1",
    "prometheus-client==0.26.0",
    "jsonschema==4.26.0",
    "fastapi==0.165.0",
    "uvicorn==0.54.0",
    "httpx==0.28.1",
    "hvac==2.4.0",
    "pandas==2.3.3",
    "pyarrow==22.0.0",
    "numpy==1.26.4",  # the Spark 3.5 line supports NumPy 1.x (pyspark.pandas and pyspark.testing use np.NaN)
    "PyJWT==2.15.1",
    "great-expectations==1.24.1",
    # JVM-free readers of the lake's tables (notebook helpers, `dip online`, small checks)
    "deltalake==1.6.6",
    "hudi==0.5.0",
    # traces of connector requests and job stages over OTLP/HTTP; the SDK is imported only when configured
    "opentelemetry-api==1.45.2",
    "opentelemetry-sdk==1.45.2",
    "opentelemetry-exporter-otlp-proto-http==1.45.2",
    # run events in the ecosystem's lineage format (file/console/HTTP transports), emitted by dip.job_runner
    "openlineage-python==1.54.0",
    # training and the model registry (`dip train`; the service loads the `champion` alias)
    "mlflow==3.17.2",  # 3.18.0's mlflow-skinny is not served by the index
    "scikit-learn==1.9.1",
]

EXTRAS = {
    "local": SPARK,
    "dev": [
        *SPARK,
        "pytest==9.2.0",
        "pytest-timeout==2.4.0",
        "ruff==0.17.6",
        "import-linter==2.17",  # the layers contract in .importlinter (make lint, tests/unit/test_layers.py)
        "moto[server]==5.2.5",
        # property-based API tests against docs/openapi.json (tests/integration/test_schemathesis.py)
        "schemathesis==4.32.5",
        # fuzzing of the envelope parser, silver normalisers and online codec (tests/unit/fuzz)
        "hypothesis==6.170.17",
        # notebooks/ run top to bottom in the integration tests (tests/integration/notebook_runner.py)
        # their sources are jupytext percent-format .py files (notebooks/README.md)
        "jupytext==1.19.6",
        "nbclient==0.11.0",
        "nbformat==5.11.1",
        "ipykernel==7.4.0",
        "matplotlib==3.11.2",
    ],
}

setup(
    name="dip",
    version="0.1.0",
    description="DIP: data ingestion pipeline for social-media analytics (Kafka, Spark, Delta, Hudi, Redis).",
    python_requires=">=3.11,<3.12",
    package_dir={"": "libs"},
    packages=find_packages("libs"),
    include_package_data=True,
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["dip=dip.cli:main"]},
)

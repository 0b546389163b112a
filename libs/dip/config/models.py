"""Pydantic models of the resolved configuration; unknown keys are rejected."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, SecretStr, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class LakeConfig(_Strict):
    root: str = Field(description="Lake root URI: file://, s3://, s3a://, gs://, hdfs:// or abfss://.")

    @model_validator(mode="after")
    def _check_scheme(self) -> LakeConfig:
        scheme = self.root.split("://", 1)[0] if "://" in self.root else ""
        if scheme not in {"file", "s3", "s3a", "gs", "hdfs", "abfss"}:
            raise ValueError(f"lake.root must be a URI with a supported scheme, got {self.root!r}")
        return self


class JarsConfig(_Strict):
    pom: str = "conf/pom.xml"
    maven_settings: str = "conf/maven-settings.xml"
    dir: str = ".dip/jars"


SparkRuntime = Literal["3.5", "4.0"]
# Hudi publishes no Spark 4.0 bundle that this project can resolve: Hudi runs on the 3.5 line only.
HUDI_RUNTIMES: frozenset[str] = frozenset({"3.5"})


class SparkConfig(_Strict):
    app_name: str = "dip"
    master: str | None = None
    # The Spark line the jobs run on: 3.5 (Scala 2.12; EMR 7.x, Databricks 15.4/16.4 LTS; Hudi) or
    # 4.0 (Scala 2.13; Databricks 17.x; Delta feature tables). Picks the pom profile, packages and jar folder.
    runtime: SparkRuntime = "3.5"
    local_jars: bool = True
    # spark.jars.packages per runtime (clusters, or local_jars: false)
    packages: dict[SparkRuntime, list[str]] = Field(default_factory=dict)
    hudi_enabled: bool = True
    register_tables: bool = True  # notebook sessions name the lake's tables (dip.silver_posts, ...); jobs never do
    log_level: str = "WARN"
    conf: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_hudi_runtime(self) -> SparkConfig:
        if self.hudi_enabled and self.runtime not in HUDI_RUNTIMES:
            raise ValueError(
                f"spark.hudi_enabled needs spark.runtime {' or '.join(sorted(HUDI_RUNTIMES))} (got {self.runtime}):"
                " no Hudi bundle for that Spark line is served; set spark.hudi_enabled: false"
            )
        return self

    @property
    def runtime_packages(self) -> list[str]:
        """Maven coordinates of this runtime's jars, for ``spark.jars.packages``."""
        return list(self.packages.get(self.runtime, []))


class KafkaTopics(_Strict):
    raw_prefix: str = "dip.raw."
    dlq: str = "dip.dlq"
    predictions: str = "dip.predictions"
    partitions: int = 3


class KafkaConfig(_Strict):
    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: SecretStr | None = None
    sasl_password: SecretStr | None = None
    # or an AWS Secrets Manager secret {"username", "password"} (Amazon MSK SCRAM's format), read on first use
    sasl_secret_id: str | None = None
    ssl_ca_location: str | None = None
    # ingest dead letters carry the response body; above this it is cut (the raw zone keeps the whole body),
    # so a DLQ message stays under the broker's message.max.bytes (1 MiB by default)
    dlq_max_original_bytes: int = Field(
        default=256_000, gt=0
    )  # PEM CA bundle for SSL/SASL_SSL when the system trust store is not enough
    topics: KafkaTopics = Field(default_factory=KafkaTopics)
    producer: dict[str, str | int | bool] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _require_sasl_secrets(self) -> KafkaConfig:
        if self.security_protocol.upper().startswith("SASL") and not self.sasl_secret_id:
            for name in ("sasl_username", "sasl_password"):
                if getattr(self, name) is None:
                    raise ValueError(
                        f"missing secret kafka.{name}: set DIP__KAFKA__{name.upper()} in the environment"
                        " (or kafka.sasl_secret_id, an AWS Secrets Manager secret)"
                    )
        return self


class RedisConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = 6379
    db: int = 0
    tls: bool = False
    password: SecretStr | None = None
    password_secret_id: str | None = None  # or an AWS Secrets Manager secret (the AUTH token), read on first use
    socket_timeout_s: float = 2.0


class KafkaBrokerStack(_Strict):
    node_id: int = 1
    controller_port: int = 9093
    heap: str = "512m"


class StackConfig(_Strict):
    """The embedded local services (`dip stack up`); ports of clients come from kafka/redis sections."""

    enabled: bool = True
    kafka: KafkaBrokerStack = Field(default_factory=KafkaBrokerStack)
    startup_timeout_s: float = 90.0
    apt_install: bool = True


class SecretsProviderConfig(_Strict):
    """Where connector secrets come from: the environment (default), Vault KV v2 or AWS Secrets Manager."""

    provider: Literal["env", "vault", "aws"] = "env"
    vault_url: str | None = None
    vault_mount: str = "secret"
    vault_path: str = "dip/connectors"
    vault_token: SecretStr | None = None
    aws_secret_id: str = "dip/connectors"
    aws_region: str | None = None


class ApiConnectorConfig(_Strict):
    """What every platform API connector (``connectors.<source>``) has: the API's base URL and version, the
    accounts to fetch, the page size and the request rate; each platform sets its own defaults."""

    enabled: bool = True
    base_url: str
    api_version: str
    accounts: list[str] = Field(default_factory=list)
    page_size: int
    requests_per_second: float = 10.0


class InstagramConnectorConfig(ApiConnectorConfig):
    """Instagram Graph API: base URL, version, accounts (IG user ids) and app credentials (secrets from env)."""

    base_url: str = "https://graph.facebook.com"
    api_version: str = "v24.0"
    page_size: int = 25
    app_id: str = ""
    breakdowns: list[str] = Field(default_factory=lambda: ["age", "gender", "country"])
    app_secret: SecretStr | None = None
    access_token: SecretStr | None = None


class TikTokConnectorConfig(ApiConnectorConfig):
    """TikTok API v2: base URL, accounts (open ids), client key; secret and refresh tokens from env."""

    base_url: str = "https://open.tiktokapis.com"
    api_version: str = "v2"
    page_size: int = 20
    client_key: str = ""
    client_secret: SecretStr | None = None
    refresh_tokens: dict[str, SecretStr] = Field(default_factory=dict)


class ConnectorsConfig(_Strict):
    """Platform connectors: retries, throttling, incremental state and the raw zone."""

    timeout_s: float = 10.0
    max_retries: int = 6
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_after_max_s: float = 120.0
    throttle_threshold_pct: float = 75.0
    throttle_max_delay_s: float = 10.0
    max_concurrency: int = 2
    max_pages_per_run: int = 500  # per account and stream; the rest is fetched by the next run (saved cursor)
    item_retry_runs: int = 5  # an item refused for good (insights code 10) is asked again by this many runs
    restatement_lookback_days: int = 7
    schemas_dir: str = "conf/schemas"
    state_dir: str | None = None  # ingest state per source/account, a folder or URI; None: <lake.root>/_state/ingest
    raw_zone_enabled: bool = True
    s3_endpoint_url: str | None = None
    metrics_port: int | None = None
    secrets: SecretsProviderConfig = Field(default_factory=SecretsProviderConfig)
    instagram: InstagramConnectorConfig = Field(default_factory=InstagramConnectorConfig)
    tiktok: TikTokConnectorConfig = Field(default_factory=TikTokConnectorConfig)


class StreamingConfig(_Strict):
    """Structured Streaming settings shared by stream_bronze and stream_silver."""

    checkpoint_dir: str = "_checkpoints"  # under lake.root unless it is a URI itself
    trigger: str = "available-now"  # available-now | processing-time=<interval>
    starting_offsets: str = "earliest"
    max_offsets_per_trigger: int | None = 100000
    fail_on_data_loss: bool = True
    max_files_per_trigger: int | None = None
    watermark_delay_hours: float = 72.0  # silver: events older than (max event time - delay) are late -> DLQ
    max_clock_skew_minutes: float = Field(default=15.0, ge=0)  # silver: events after now + skew -> DLQ (future)
    # a batch sending more than this share of its input to the DLQ (late, future, unreadable) is flagged:
    # metric dip_stream_rejected_batches_total, alert DipStreamBatchRejectedShareHigh, `dip status`
    max_rejected_share: float = Field(default=0.05, ge=0, le=1)
    app_id: str = "dip"


class OnlineViewConfig(_Strict):
    """One online feature view: its entity type, typed features and TTL (format: docs/online_store.md)."""

    entity: str = Field(description="Entity type the view is keyed by, e.g. post or account.")
    ttl_seconds: int = Field(gt=0, description="Redis EXPIRE on every applied write; older _ts is served stale.")
    features: dict[str, Literal["int", "float", "str", "bool", "vector"]] = Field(min_length=1)
    live: bool = Field(
        False,
        description="Written by the stream_live query from silver's change feed within seconds of a new snapshot "
        "(entity post: silver post_metrics; account: silver account_metrics), not by the nightly push-online.",
    )

    @model_validator(mode="after")
    def _check_feature_names(self) -> OnlineViewConfig:
        for name in self.features:
            if not _is_snake_name(name):
                raise ValueError(f"feature name {name!r} must be lower snake_case (a-z, 0-9, _), not start with _")
        if self.live and self.entity not in ("post", "account"):
            raise ValueError(f"a live view's entity must be post or account, not {self.entity!r}")
        return self


class LiveConfig(_Strict):
    """stream_live: silver post_metrics/account_metrics changes -> the live views in Redis (docs/online_store.md)."""

    lookback_hours: float = Field(
        72.0,
        gt=0,
        description="The previous snapshot of a changed entity (for its velocity) is searched this far before "
        "the oldest snapshot of the batch; an older one is not found and the velocity is null.",
    )
    trigger: str | None = Field(None, description="Trigger of stream_live; null: streaming.trigger.")


class OnlineConfig(_Strict):
    """Redis online store: one hash ``dip:<view>:<entity_id>`` per entity and view, or Feast's layout."""

    batch_size: int = Field(500, gt=0, description="Rows per pipelined round trip when pushing.")
    format: Literal["dip", "feast"] = Field(
        "dip",
        description="dip: DIP's own hashes; feast: Feast's Redis online format (project feast_project), read by "
        "Feast's SDK and by `dip serve` alike. Switching means pushing again (see docs/online_store.md).",
    )
    feast_project: str = Field(
        "dip", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$", description="Feast project of `dip feast export` and keys."
    )
    views: dict[str, OnlineViewConfig] = Field(default_factory=dict)
    live: LiveConfig = Field(default_factory=LiveConfig)

    @model_validator(mode="after")
    def _check_view_names(self) -> OnlineConfig:
        for name in self.views:
            if not _is_snake_name(name):
                raise ValueError(f"view name {name!r} must be lower snake_case (a-z, 0-9, _), not start with _")
        return self


def _is_snake_name(name: str) -> bool:
    return 0 < len(name) <= 64 and name.isascii() and name.isidentifier() and name == name.lower() and name[0] != "_"


class ApiKeyConfig(_Strict):
    """A serving API key, stored only as the sha256 hex of the key; the plain key never lives in config."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: list[str] = Field(default_factory=list)


class JwtConfig(_Strict):
    """OAuth2 bearer JWTs (HS256) with a ``scope`` claim; the secret comes from DIP__SERVING__JWT__SECRET."""

    enabled: bool = False
    algorithm: Literal["HS256"] = "HS256"
    issuer: str | None = None
    audience: str | None = None
    leeway_s: float = 30.0
    secret: SecretStr | None = None

    @model_validator(mode="after")
    def _require_secret(self) -> JwtConfig:
        """With JWTs on: a secret of at least 32 bytes (HS256 needs a 256-bit key, RFC 7518 3.2), and the
        issuer and audience every token must carry (a token minted for another service is refused)."""
        if not self.enabled:
            return self
        if self.secret is None:
            raise ValueError("missing secret serving.jwt.secret: set DIP__SERVING__JWT__SECRET in the environment")
        if len(self.secret.get_secret_value().encode("utf-8")) < 32:
            raise ValueError("serving.jwt.secret is shorter than 32 bytes (HS256 needs a 256-bit key)")
        missing = [name for name in ("issuer", "audience") if not getattr(self, name)]
        if missing:
            raise ValueError(f"serving.jwt.{' and serving.jwt.'.join(missing)} must be set when JWTs are enabled")
        return self


class ScoringVariantConfig(_Strict):
    name: str
    weight: int = Field(ge=0)


class ScoringConfig(_Strict):
    """``POST /v1/score``: features from ``view``, A/B variant sticky per entity (hash of experiment + id)."""

    enabled: bool = False
    view: str = "post_features_daily"
    account_view: str = "account_features_daily"  # account features joined to a new post's caption features
    experiment: str = "engagement-ab-1"
    variants: list[ScoringVariantConfig] = Field(
        default_factory=lambda: [ScoringVariantConfig(name="champion", weight=100)], min_length=1
    )


class ServingConfig(_Strict):
    """The FastAPI feature and scoring service (`dip serve`)."""

    host: str = "127.0.0.1"
    port: int = 8000
    access_log: bool = False
    max_batch_entities: int = Field(1000, gt=0)
    max_body_bytes: int = Field(1_048_576, gt=0, description="Larger request bodies get 413 before being read.")
    admin_scope: str = Field("admin", min_length=1, description="Scope of POST /v1/admin/reload-model.")
    api_keys: dict[str, ApiKeyConfig] = Field(default_factory=dict)
    jwt: JwtConfig = Field(default_factory=JwtConfig)
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)


class QualityConfig(_Strict):
    """Great Expectations suites per silver table and what a failed table-level expectation does."""

    expectations_dir: str = "expectations"
    default_policy: Literal["warn", "drop", "fail"] = "warn"
    policies: dict[str, Literal["warn", "drop", "fail"]] = Field(default_factory=dict)

    def policy(self, table: str) -> str:
        return self.policies.get(table, self.default_policy)


class MetricsConfig(_Strict):
    """Where job metrics go: served while running (port), pushed (Pushgateway) or a textfile at the end."""

    host: str = "127.0.0.1"
    port: int | None = None
    pushgateway_url: str | None = None
    textfile_dir: str = ".dip/metrics"


class OpenLineageConfig(_Strict):
    """Where the job runner sends OpenLineage run events (START, then COMPLETE or FAIL) besides ``<lake>/_runs``."""

    transport: Literal["file", "console", "http", "none"] = "file"
    file: str = ".dip/openlineage/events.jsonl"  # transport file: one JSON event per line, appended
    url: str | None = None  # transport http: a Marquez-compatible endpoint, e.g. http://marquez:5000
    endpoint: str = "api/v1/lineage"
    api_key: SecretStr | None = None  # transport http: bearer token
    namespace: str = "dip"  # the jobs' namespace; datasets are named by their lake URI

    @model_validator(mode="after")
    def _check_url(self) -> OpenLineageConfig:
        if self.transport == "http" and not self.url:
            raise ValueError("lineage.openlineage.transport http needs lineage.openlineage.url")
        return self


class LineageConfig(_Strict):
    """Run lineage: every job run is a row of ``<lake>/_runs`` and, in the ecosystem's format, OpenLineage events."""

    openlineage: OpenLineageConfig = Field(default_factory=OpenLineageConfig)


class ObservabilityConfig(_Strict):
    """OpenTelemetry traces: exported over OTLP/HTTP when an endpoint is set here or in OTEL_EXPORTER_OTLP_ENDPOINT."""

    otlp_endpoint: str | None = None  # base URL of an OTLP/HTTP collector, e.g. http://127.0.0.1:4318
    service_name: str = "dip"


class StatusConfig(_Strict):
    """`dip status`: the freshness SLA (minutes since the newest event) of each lake table."""

    sla_minutes: dict[str, PositiveInt] = Field(default_factory=dict)


class FeatureTextConfig(_Strict):
    """Caption text features: tokenizer pattern and the fixed HashingTF vector size."""

    vector_size: int = Field(64, gt=0, description="HashingTF numFeatures: length of caption_vec.")
    token_pattern: str = r"(?U)\w+"  # RegexTokenizer pattern of a token (gaps=false); Unicode-aware
    min_token_length: int = Field(1, ge=1)


class HudiFeaturesConfig(_Strict):
    """Hudi writer settings of the feature tables (used when features.table_format is hudi)."""

    table_type: Literal["COPY_ON_WRITE", "MERGE_ON_READ"] = "COPY_ON_WRITE"
    precombine_field: str = "computed_at"
    bulk_insert_new_partitions: bool = True  # first write of a day: bulk_insert; re-runs upsert
    cleaner_commits_retained: int = Field(24, ge=1, description="Commits the cleaner keeps (KEEP_LATEST_COMMITS).")
    metadata_enabled: bool = True
    options: dict[str, str] = Field(default_factory=dict)  # extra hoodie.* options, applied last


class FeaturesConfig(_Strict):
    """Nightly feature tables (`dip features`), their storage format and the online push."""

    table_format: Literal["delta", "hudi"] = "hudi"
    feature_set_version: int = Field(1, ge=0)
    lookback_days: int = Field(7, ge=1, description="How far back the snapshot before a window is searched.")
    hourly: bool = True  # also compute post_features_hourly
    posting_frequency_days: int = Field(7, ge=1)
    engagement_days: list[int] = Field(default_factory=lambda: [7, 28], min_length=1)
    best_hour_days: int = Field(28, ge=1)
    top_hashtags: int = Field(3, ge=1)
    text: FeatureTextConfig = Field(default_factory=FeatureTextConfig)
    hudi: HudiFeaturesConfig = Field(default_factory=HudiFeaturesConfig)
    push_partitions: int | None = Field(None, gt=0, description="foreachPartition tasks; null: Spark's default.")


class SellerAlertsConfig(_Strict):
    """Seller alert rules evaluated nightly by `dip gold` into the ``seller_alerts`` table."""

    enabled: bool = True
    post_window_hours: int = Field(48, gt=0, description="Posts published this recently are checked.")
    high_percentile: float = Field(0.9, gt=0, lt=1, description="Above the account's percentile: a standout post.")
    low_percentile: float = Field(0.1, gt=0, lt=1, description="Below the account's percentile: an underperformer.")
    min_posts: int = Field(5, ge=2, description="Posts with a known ratio the account needs for percentile rules.")
    follower_drop_pct: float = Field(2.0, gt=0, description="Week-over-week follower loss (%) that raises an alert.")

    @model_validator(mode="after")
    def _check_percentiles(self) -> SellerAlertsConfig:
        if self.low_percentile >= self.high_percentile:
            raise ValueError(
                f"gold.alerts.low_percentile ({self.low_percentile}) must be below high_percentile "
                f"({self.high_percentile})"
            )
        return self


class GoldConfig(_Strict):
    """Gold tables for the seller dashboard (`dip gold`): look-back windows and the alert rules."""

    baseline_days: int = Field(28, ge=1, description="The account's median/percentiles: posts of the last N days.")
    lookback_days: int = Field(28, ge=1, description="How far back the snapshot before a day is searched.")
    prediction_variant: str = Field("champion", min_length=1, description="A/B variant whose scores are shown.")
    alerts: SellerAlertsConfig = Field(default_factory=SellerAlertsConfig)


class DashboardConfig(_Strict):
    """The seller dashboard mounted by `dip serve` under ``/dashboard``."""

    enabled: bool = True
    scope: str = Field("dashboard", min_length=1, description="Scope an API key or JWT needs to read it.")
    top_posts: int = Field(5, ge=1, description="Posts in each of the top and bottom lists.")
    hashtags: int = Field(10, ge=1, description="Rows of the hashtag leaderboard.")


class MlConfig(_Strict):
    """Training (`dip train`): label horizon, point-in-time feature offset, split and the MLflow registry."""

    label_horizon_hours: int = Field(48, gt=0, description="Label: engagement_ratio this long after publish.")
    feature_offset_hours: int = Field(24, ge=0, description="Features as of publish + this; below the horizon.")
    label_tolerance_hours: int = Field(24, gt=0, description="Latest label snapshot accepted after the label time.")
    view: str = "post_features_daily"  # feature table the model reads (the serving scoring view)
    features: list[str] = Field(
        default_factory=lambda: [
            "views_delta",
            "likes_delta",
            "comments_delta",
            "shares_delta",
            "saves_delta",
            "engagement_ratio_last",
            "engagement_ratio_mean",
            "engagement_ratio_max",
            "growth_velocity",
            "hours_since_publish",
            "snapshot_count",
            "hashtag_count",
            "is_arabic",
            "is_latin",
        ],
        min_length=1,
    )
    validation_fraction: float = Field(0.25, gt=0, lt=1)
    min_rows: int = Field(200, ge=2, description="Fewer labelled posts than this: `dip train` says so, fits nothing.")
    min_accounts: int = Field(2, ge=1, description="Fewer accounts with labelled posts: the same.")
    gate_margin: float = Field(0.05, ge=0, lt=1, description="Champion only if val MAE < best baseline's x (1 - this).")
    gate_min_spread: float = Field(1e-6, ge=0, description="Validation predictions with a std at or below: constant.")
    permutation_repeats: int = Field(5, ge=1, description="Permutation-importance shuffles per feature on validation.")
    max_rows: int = Field(
        2_000_000, ge=2, description="Training collects at most this many rows to the driver: the newest posts."
    )
    with_feedback: bool = Field(False, description="Also train on `dip evaluate`'s ml_feedback table.")
    model: Literal["hist_gradient_boosting", "ridge"] = "hist_gradient_boosting"
    params: dict[str, float | int | str] = Field(default_factory=dict)  # estimator keyword arguments
    tracking_uri: str | None = None  # null: sqlite:///<state_dir>/mlflow.db
    artifact_location: str | None = None  # null: <state_dir>/mlruns
    experiment: str = "dip-engagement"
    registered_model: str = "dip-engagement"
    champion_alias: str = "champion"

    @model_validator(mode="after")
    def _features_before_label(self) -> MlConfig:
        if self.feature_offset_hours >= self.label_horizon_hours:
            raise ValueError("ml.feature_offset_hours must be below ml.label_horizon_hours (features before the label)")
        return self


class EmrDeployConfig(_Strict):
    """EMR steps (`dip deploy render --target emr`)."""

    deploy_mode: Literal["client", "cluster"] = "cluster"
    action_on_failure: Literal["CONTINUE", "CANCEL_AND_WAIT", "TERMINATE_CLUSTER"] = "CONTINUE"


class DatabricksDeployConfig(_Strict):
    """Databricks job clusters (`dip deploy render --target databricks`); secrets by secret-scope reference."""

    spark_version: str | None = None  # null: the LTS of spark.runtime (deploy.DATABRICKS_RUNTIMES)
    node_type_id: str = "i3.xlarge"
    min_workers: int = Field(1, ge=0)
    max_workers: int = Field(4, ge=1)
    secret_scope: str = "dip"
    secrets: list[str] = Field(default_factory=list)  # dotted config keys, e.g. kafka.sasl_password

    @model_validator(mode="after")
    def _check_secrets(self) -> DatabricksDeployConfig:
        unknown = sorted(set(self.secrets) - secret_paths())
        if unknown:
            raise ValueError(f"deploy.databricks.secrets: not secret keys: {', '.join(unknown)}")
        return self


class AirflowDeployConfig(_Strict):
    """How the Airflow DAGs reach Spark: the connection id defined from config (`make airflow`)."""

    spark_conn_id: str = "dip_spark"
    # Deadline alerts (Airflow 3's SLAs): a DAG run not finished this many minutes after it was queued alerts; 0: none
    deadline_minutes: dict[str, NonNegativeInt] = Field(default_factory=lambda: {"dip_ingest": 45, "dip_nightly": 150})
    # dip_nightly retrains after this weekday's features (0 Monday .. 6 Sunday; null: only on a new feature set version)
    train_weekday: int | None = Field(6, ge=0, le=6)


class DeployConfig(_Strict):
    """Cluster artefacts and job specs (`make dist`, `dip deploy render`)."""

    artifacts_uri: str = "dist"  # where dist/ is published, e.g. s3://bucket/dip/0.1.0
    emr: EmrDeployConfig = Field(default_factory=EmrDeployConfig)
    databricks: DatabricksDeployConfig = Field(default_factory=DatabricksDeployConfig)
    airflow: AirflowDeployConfig = Field(default_factory=AirflowDeployConfig)


# --- data lifecycle (issue 21): `dip maintain`, retention and archive, `dip forget` -------------------------------
# Delta's safety default: VACUUM refuses a shorter retention unless told (delta.retentionDurationCheck)
DELTA_SAFE_RETENTION_HOURS = 168.0
LifecycleZone = Literal["bronze", "silver", "quarantine", "dlq", "features", "gold"]


class DeltaMaintenanceConfig(_Strict):
    """`dip maintain` on every Delta table: OPTIMIZE (Z-ordered by the common filters), VACUUM, a checkpoint."""

    optimize: bool = True
    # table name -> columns the common queries filter on (OPTIMIZE ... ZORDER BY); not partition columns
    zorder_by: dict[str, list[str]] = Field(default_factory=dict)
    vacuum: bool = True
    vacuum_retention_hours: float = Field(DELTA_SAFE_RETENTION_HOURS, gt=0)
    # below Delta's 7-day safety default only when said explicitly (a stream or reader older than that breaks)
    allow_short_retention: bool = False
    checkpoint: bool = True

    @model_validator(mode="after")
    def _check_retention(self) -> DeltaMaintenanceConfig:
        if self.vacuum_retention_hours < DELTA_SAFE_RETENTION_HOURS and not self.allow_short_retention:
            raise ValueError(
                f"lifecycle.delta.vacuum_retention_hours {self.vacuum_retention_hours:g} is below Delta's safety "
                f"default ({DELTA_SAFE_RETENTION_HOURS:g} h): set lifecycle.delta.allow_short_retention: true"
            )
        return self


class HudiMaintenanceConfig(_Strict):
    """`dip maintain` on the Hudi feature tables: cleaning (run_clean) and, optionally, clustering."""

    clean: bool = True
    retain_commits: int | None = Field(None, ge=1, description="null: features.hudi.cleaner_commits_retained.")
    clustering: bool = False  # run_clustering: rewrites small files into larger ones (copy-on-write tables)


class RawRetentionConfig(_Strict):
    """The raw zone: moved to the archive (S3: an archive storage class) after N days, deleted after M."""

    archive_after_days: PositiveInt = 30
    expire_after_days: PositiveInt | None = 730  # null: never
    archive_storage_class: Literal["GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "STANDARD_IA", "INTELLIGENT_TIERING"] = (
        "GLACIER"
    )

    @model_validator(mode="after")
    def _check_order(self) -> RawRetentionConfig:
        if self.expire_after_days is not None and self.expire_after_days <= self.archive_after_days:
            raise ValueError("lifecycle.raw.expire_after_days must be after lifecycle.raw.archive_after_days")
        return self


class LifecycleConfig(_Strict):
    """Table maintenance, per-zone retention (days; a zone not listed keeps its rows), encryption, forgetting."""

    delta: DeltaMaintenanceConfig = Field(default_factory=DeltaMaintenanceConfig)
    hudi: HudiMaintenanceConfig = Field(default_factory=HudiMaintenanceConfig)
    raw: RawRetentionConfig = Field(default_factory=RawRetentionConfig)
    retention_days: dict[LifecycleZone, PositiveInt] = Field(default_factory=dict)
    kafka_retention_hours: float | None = Field(168.0, gt=0, description="retention.ms of new topics; null: broker's.")
    kms_key_id: str | None = None  # SSE-KMS key of the lake bucket (s3-lifecycle render); null: SSE-S3 (AES256)


class Config(_Strict):
    env: str
    state_dir: str = ".dip"
    lake: LakeConfig
    jars: JarsConfig = Field(default_factory=JarsConfig)
    spark: SparkConfig = Field(default_factory=SparkConfig)
    kafka: KafkaConfig = Field(default_factory=KafkaConfig)
    redis: RedisConfig = Field(default_factory=RedisConfig)
    stack: StackConfig = Field(default_factory=StackConfig)
    streaming: StreamingConfig = Field(default_factory=StreamingConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    lineage: LineageConfig = Field(default_factory=LineageConfig)
    connectors: ConnectorsConfig = Field(default_factory=ConnectorsConfig)
    online: OnlineConfig = Field(default_factory=OnlineConfig)
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)
    gold: GoldConfig = Field(default_factory=GoldConfig)
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)
    ml: MlConfig = Field(default_factory=MlConfig)
    serving: ServingConfig = Field(default_factory=ServingConfig)
    observability: ObservabilityConfig = Field(default_factory=ObservabilityConfig)
    status: StatusConfig = Field(default_factory=StatusConfig)
    deploy: DeployConfig = Field(default_factory=DeployConfig)
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig)

    @model_validator(mode="after")
    def _check_feature_format(self) -> Config:
        if self.features.table_format == "hudi" and not self.spark.hudi_enabled:
            raise ValueError(
                f"features.table_format hudi needs spark.hudi_enabled (spark.runtime {self.spark.runtime}):"
                " set features.table_format: delta, or run on spark.runtime 3.5 with Hudi"
            )
        return self


def secret_paths(model: type[BaseModel] = Config, prefix: str = "") -> set[str]:
    """Dotted paths of every secret field, derived from the models; secrets may only come from the environment."""
    paths: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        if annotation is SecretStr or SecretStr in args:
            paths.add(prefix + name)
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths |= secret_paths(annotation, prefix + name + ".")
    return paths

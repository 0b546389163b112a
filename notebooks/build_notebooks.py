"""Write the notebooks of this folder (nbformat v4, no outputs): ``.venv/bin/python notebooks/build_notebooks.py``.

The notebooks are generated so they stay reviewable as code; edit the cells here and re-run.
They read the lake through ``dip.notebook`` (config + table names), never through copied paths.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
%matplotlib inline
import matplotlib.pyplot as plt
from pyspark.sql import functions as F

from dip.notebook import exists, session, table

spark, config = session()  # DIP_ENV / DIP__LAKE__ROOT choose the environment and the lake
print("lake:", config.lake.root)"""

EXPLORE = [
    new_markdown_cell(
        "# 01 - Explore silver\n\n"
        "The silver tables written by `dip demo` (or the pipeline): what is registered, row counts, "
        "distributions, and engagement by hashtag and by posting hour."
    ),
    new_code_cell(SETUP),
    new_markdown_cell("## Tables registered in the catalog (`dip.<name>`) and row counts"),
    new_code_cell(
        """\
from dip.tables import ALL_TABLES

spark.sql("SHOW TABLES IN dip").show(truncate=False)
counts = {t.name: (table(spark, config, t.name).count() if exists(spark, config, t.name) else None) for t in ALL_TABLES}
for name, rows in counts.items():
    print(f"{name:28s} {'not written' if rows is None else rows}")"""
    ),
    new_markdown_cell("## Latest metrics snapshot per post, joined with the post"),
    new_code_cell(
        """\
from pyspark.sql import Window

posts = table(spark, config, "silver_posts")
metrics = table(spark, config, "silver_post_metrics")
latest = Window.partitionBy("source", "post_id").orderBy(F.col("captured_at").desc())
last_metrics = metrics.withColumn("_rn", F.row_number().over(latest)).where("_rn = 1").drop("_rn")
post_stats = posts.select("source", "post_id", "account_id", "hashtags", "created_at", "media_type").join(
    last_metrics.select("source", "post_id", "views", "likes", "comments", "shares", "saves", "engagement_ratio"),
    ["source", "post_id"],
    "left",
)
post_stats.cache()
print("posts:", post_stats.count())
per_source = post_stats.groupBy("source").agg(
    F.count("*").alias("posts"), F.avg("engagement_ratio").alias("avg_engagement")
)
per_source.show()"""
    ),
    new_markdown_cell("## Distributions"),
    new_code_cell(
        """\
pdf = post_stats.select("source", "views", "likes", "engagement_ratio").toPandas()
print(pdf.describe())
if pdf["engagement_ratio"].notna().any():
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
    for source, group in pdf.groupby("source"):
        axes[0].hist(group["engagement_ratio"].dropna(), bins=20, alpha=0.6, label=source)
        axes[1].hist(group["views"].dropna(), bins=20, alpha=0.6, label=source)
    axes[0].set_title("engagement_ratio (latest snapshot)")
    axes[1].set_title("views (latest snapshot)")
    axes[0].legend()
    plt.tight_layout()
    plt.show()
else:
    print("no engagement_ratio yet: run `dip demo` first")"""
    ),
    new_markdown_cell("## Engagement by hashtag (top 15 by posts)"),
    new_code_cell(
        """\
by_tag = (
    post_stats.select(F.explode("hashtags").alias("hashtag"), "engagement_ratio")
    .groupBy("hashtag")
    .agg(F.count("*").alias("posts"), F.avg("engagement_ratio").alias("avg_engagement"))
    .orderBy(F.desc("posts"), "hashtag")
    .limit(15)
    .toPandas()
)
print(by_tag.to_string(index=False))
if not by_tag.empty:
    ax = by_tag.sort_values("avg_engagement").plot.barh(x="hashtag", y="avg_engagement", legend=False, figsize=(8, 5))
    ax.set_xlabel("average engagement_ratio")
    plt.tight_layout()
    plt.show()
else:
    print("no hashtags in silver posts")"""
    ),
    new_markdown_cell("## Engagement by posting hour (UTC)"),
    new_code_cell(
        """\
by_hour = (
    post_stats.where(F.col("created_at").isNotNull())
    .groupBy(F.hour("created_at").alias("hour"))
    .agg(F.count("*").alias("posts"), F.avg("engagement_ratio").alias("avg_engagement"))
    .orderBy("hour")
    .toPandas()
)
print(by_hour.to_string(index=False))
if not by_hour.empty:
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.bar(by_hour["hour"], by_hour["avg_engagement"].fillna(0))
    ax.set_xlabel("posting hour (UTC)")
    ax.set_ylabel("average engagement_ratio")
    ax.set_xticks(range(0, 24, 2))
    plt.tight_layout()
    plt.show()
else:
    print("no posts with a publish time")"""
    ),
]

FEATURES = [
    new_markdown_cell(
        "# 02 - Features\n\n"
        "The feature tables (`dip features`, see `docs/features.md`) and a point-in-time retrieval with "
        "`get_historical_features`: for each (entity, ts) the latest window with `window_end <= ts`."
    ),
    new_code_cell(SETUP),
    new_markdown_cell("## Feature tables"),
    new_code_cell(
        """\
from dip.tables import FEATURE_TABLES

written = [name for name in FEATURE_TABLES if exists(spark, config, name)]
for name in FEATURE_TABLES:
    if name in written:
        df = table(spark, config, name)
        print(f"{name}: {df.count()} rows, {len(df.columns)} columns")
    else:
        print(f"{name}: not written yet (run `dip features`)")"""
    ),
    new_code_cell(
        """\
if "post_features_daily" in written:
    daily = table(spark, config, "post_features_daily")
    daily.printSchema()
    daily.orderBy("post_id", "window_start").show(5, truncate=40, vertical=True)"""
    ),
    new_markdown_cell(
        "## Point-in-time retrieval\n\n"
        "Entities: every silver post, asked one day after it was published and at the newest window's end. "
        "Rows with no window "
        "ending before `ts` get nulls (no leakage from the future): the demo ingests on a simulated clock, "
        "so posts published during its timeline have day-after features, older ones do not."
    ),
    new_code_cell(
        """\
from dip.features.offline import get_historical_features

views = [v for v in ("post_features_daily",) if v in written]
if views:
    posts = table(spark, config, "silver_posts").where("created_at IS NOT NULL")
    next_day = F.col("created_at") + F.expr("INTERVAL 1 DAY")
    day_after = posts.select(F.col("post_id").alias("entity_id"), next_day.alias("ts"))
    latest_end = table(spark, config, views[0]).agg(F.max("window_end")).first()[0]  # the newest window
    now = posts.select(F.col("post_id").alias("entity_id"), F.lit(latest_end).cast("timestamp").alias("ts"))
    entity_df = day_after.unionByName(now)
    historical = get_historical_features(spark, config, entity_df, views, ts_col="ts")
    found = historical.where(f"{views[0]}__window_end IS NOT NULL").count()
    print("rows:", historical.count(), "| with features:", found)
    shown = [c for c in historical.columns if c.startswith(views[0])][:6]
    historical.select("entity_id", "ts", *shown).show(10, truncate=False)
else:
    print("no feature table written yet: run `dip demo` or `dip features` first")"""
    ),
]

MODEL = [
    new_markdown_cell(
        "# 03 - Model\n\n"
        "The MLflow runs of `dip train` (`dip demo` trains too; tracking store from config `ml.tracking_uri`, "
        "see `docs/ml.md`), the registered champion, and the served predictions evaluated per A/B variant "
        "(`dip evaluate`: each `/v1/score` answer joined with the engagement observed later)."
    ),
    new_code_cell(
        """\
import mlflow

from dip.ml.registry import champion_version, tracking_uri, use_tracking
from dip.notebook import exists, session, table

spark, config = session()  # DIP_ENV / DIP__* choose the environment, the lake and the tracking store
use_tracking(config)
print("tracking:", tracking_uri(config), "| experiment:", config.ml.experiment)"""
    ),
    new_markdown_cell("## Runs of the experiment"),
    new_code_cell(
        """\
runs = mlflow.search_runs(experiment_names=[config.ml.experiment], order_by=["start_time DESC"])
if runs.empty:
    print("No MLflow runs yet: run `dip train` (or `dip demo`) to train a model.")
else:
    shown = [c for c in ("run_id", "start_time", "status", "params.model", "params.n_train", "params.n_valid",
                         "metrics.val_mae", "metrics.val_rmse", "metrics.baseline_val_mae") if c in runs.columns]
    print(runs[shown].head(20).to_string(index=False))"""
    ),
    new_markdown_cell("## Registered champion"),
    new_code_cell(
        """\
version = champion_version(config)
if version is None:
    print(f"No model registered as {config.ml.registered_model}@{config.ml.champion_alias} yet: "
          "`dip train` registers one when the lake has labelled posts.")
else:
    champion_run = mlflow.get_run(version.run_id)
    print(f"{config.ml.registered_model} v{version.version} @{config.ml.champion_alias} (run {version.run_id})")
    print("params:", {k: champion_run.data.params[k] for k in ("model", "n_train", "n_valid", "split_cutoff")
                      if k in champion_run.data.params})
    print("metrics:", {k: round(v, 5) for k, v in sorted(champion_run.data.metrics.items())})"""
    ),
    new_markdown_cell(
        "## Served predictions per A/B variant\n\n"
        "The silver `predictions` table (every `/v1/score` answer, logged to Kafka and streamed in like any "
        "record) joined with the engagement observed at the label horizon, or the latest one before it "
        "(`label_kind`)."
    ),
    new_code_cell(
        """\
from dip.ml.evaluate import metric_lines, run_evaluate

if exists(spark, config, "silver_predictions") and exists(spark, config, "silver_post_metrics"):
    predictions = table(spark, config, "silver_predictions")
    print("predictions:", predictions.count())
    predictions.select("entity_id", "variant", "model_name", "model_version", "score", "scored_at").orderBy(
        "scored_at"
    ).show(10, truncate=False)
    print("\\n".join(metric_lines(run_evaluate(spark, config))))
else:
    print("No predictions in silver yet: `dip demo` scores posts over HTTP and streams the prediction log in.")"""
    ),
]


def write(name: str, cells: list) -> Path:
    for n, cell in enumerate(cells):  # stable ids: re-running the builder changes only what was edited
        cell["id"] = f"{name.split('_', 1)[0]}-{n:02d}"
    notebook = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3 (DIP venv)", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(notebook)
    path = HERE / name
    nbformat.write(notebook, path)
    return path


def main() -> None:
    for name, cells in (
        ("01_explore_silver.ipynb", EXPLORE),
        ("02_features.ipynb", FEATURES),
        ("03_model.ipynb", MODEL),
    ):
        print("wrote", write(name, cells))


if __name__ == "__main__":
    main()

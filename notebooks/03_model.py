# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (DIP venv)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 - Model
#
# The MLflow runs of `dip train` (`dip demo` trains too; tracking store from config `ml.tracking_uri`,
# see `docs/ml.md`), the registered champion, and the served predictions evaluated per A/B variant
# (`dip evaluate`: each `/v1/score` answer joined with the engagement observed later).

# %%
import mlflow

from dip.ml.model_registry import champion_version, tracking_uri, use_tracking
from dip.notebook import exists, session, table

spark, config = session()  # DIP_ENV / DIP__* choose the environment, the lake and the tracking store
use_tracking(config)
print("tracking:", tracking_uri(config), "| experiment:", config.ml.experiment)

# %% [markdown]
# ## Runs of the experiment

# %%
runs = mlflow.search_runs(experiment_names=[config.ml.experiment], order_by=["start_time DESC"])
if runs.empty:
    print("No MLflow runs yet: run `dip train` (or `dip demo`) to train a model.")
else:
    wanted = ("run_id", "start_time", "status", "params.model", "params.n_train", "params.n_valid")
    wanted += ("metrics.val_mae", "metrics.val_rmse", "metrics.baseline_val_mae")
    shown = [c for c in wanted if c in runs.columns]
    print(runs[shown].head(20).to_string(index=False))

# %% [markdown]
# ## Registered champion

# %%
version = champion_version(config)
if version is None:
    champion = f"{config.ml.registered_model}@{config.ml.champion_alias}"
    print(f"No model registered as {champion} yet: `dip train` registers one when the lake has labelled posts.")
else:
    champion_run = mlflow.get_run(version.run_id)
    print(f"{config.ml.registered_model} v{version.version} @{config.ml.champion_alias} (run {version.run_id})")
    params = champion_run.data.params
    print("params:", {k: params[k] for k in ("model", "n_train", "n_valid", "split_cutoff") if k in params})
    print("metrics:", {k: round(v, 5) for k, v in sorted(champion_run.data.metrics.items())})

# %% [markdown]
# ## Served predictions per A/B variant
#
# The silver `predictions` table (every `/v1/score` answer, logged to Kafka and streamed in like any
# record) joined with the engagement observed at the label horizon, or the latest one before it
# (`label_kind`).

# %%
from dip.ml.evaluate import metric_lines, run_evaluate

if exists(spark, config, "silver_predictions") and exists(spark, config, "silver_post_metrics"):
    predictions = table(spark, config, "silver_predictions")
    print("predictions:", predictions.count())
    predictions.select("entity_id", "variant", "model_name", "model_version", "score", "scored_at").orderBy(
        "scored_at"
    ).show(10, truncate=False)
    print("\n".join(metric_lines(run_evaluate(spark, config))))
else:
    print("No predictions in silver yet: `dip demo` scores posts over HTTP and streams the prediction log in.")

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
# # 02 - Features
#
# The feature tables (`dip features`, see `docs/features.md`) and a point-in-time retrieval with
# `get_historical_features`: for each (entity, ts) the latest window with `window_end <= ts`.

# %%
from pyspark.sql import functions as F

from dip.notebook import exists, session, table

spark, config = session()  # DIP_ENV / DIP__LAKE__ROOT choose the environment and the lake
print("lake:", config.lake.root)

# %% [markdown]
# ## Feature tables

# %%
from dip.tables import FEATURE_TABLES

written = [name for name in FEATURE_TABLES if exists(spark, config, name)]
for name in FEATURE_TABLES:
    if name in written:
        df = table(spark, config, name)
        print(f"{name}: {df.count()} rows, {len(df.columns)} columns")
    else:
        print(f"{name}: not written yet (run `dip features`)")

# %%
if "post_features_daily" in written:
    daily = table(spark, config, "post_features_daily")
    daily.printSchema()
    daily.orderBy("post_id", "window_start").show(5, truncate=40, vertical=True)

# %% [markdown]
# ## Point-in-time retrieval
#
# Entities: every silver post, asked one day after it was published and at the newest window's end.
# Rows with no window ending before `ts` get nulls (no leakage from the future): the demo ingests on a
# simulated clock, so posts published during its timeline have day-after features, older ones do not.

# %%
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
    print("no feature table written yet: run `dip demo` or `dip features` first")

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
# # 01 - Explore silver
#
# The silver tables written by `dip demo` (or the pipeline): what is registered, row counts,
# distributions, and engagement by hashtag and by posting hour.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
from pyspark.sql import functions as F

from dip.notebook import exists, session, table

spark, config = session()  # DIP_ENV / DIP__LAKE__ROOT choose the environment and the lake
print("lake:", config.lake.root)

# %% [markdown]
# ## Tables registered in the catalog (`dip.<name>`) and row counts

# %%
from dip.tables import ALL_TABLES

spark.sql("SHOW TABLES IN dip").show(truncate=False)
counts = {t.name: (table(spark, config, t.name).count() if exists(spark, config, t.name) else None) for t in ALL_TABLES}
for name, rows in counts.items():
    print(f"{name:28s} {'not written' if rows is None else rows}")

# %% [markdown]
# ## Latest metrics snapshot per post, joined with the post

# %%
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
per_source.show()

# %% [markdown]
# ## Distributions

# %%
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
    print("no engagement_ratio yet: run `dip demo` first")

# %% [markdown]
# ## Engagement by hashtag (top 15 by posts)

# %%
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
    print("no hashtags in silver posts")

# %% [markdown]
# ## Engagement by posting hour (UTC)

# %%
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
    print("no posts with a publish time")

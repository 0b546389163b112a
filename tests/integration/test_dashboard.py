"""The seller dashboard end to end: the gold job over a tiny silver fixture (twice: idempotent), `dip serve`'s app
under uvicorn, and headless Chromium (Debian's package, driven by selenium through /usr/bin/chromedriver) logging
in, picking an account and reading the charts, an Arabic caption and the console. Screenshots: tests/artifacts/."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from deltalake import DeltaTable
from pyspark.sql import SparkSession

from dip.config import Config
from dip.config.models import ApiKeyConfig
from dip.gold.batch import GoldQualityError, GoldSummary, run_gold
from dip.io.arrow_reader import read_delta
from dip.serving.app import create_app
from dip.serving.auth import hash_api_key
from dip.tables import GOLD_TABLES, SILVER_TABLES
from dip_local.simulator.server import background_server
from tests.unit.gold.conftest import ARABIC_CAPTION, silver_frames

pytestmark = pytest.mark.integration

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
KEY, OTHER_KEY = "dash-test-key", "features-only-key"


@pytest.fixture(scope="module")
def gold_config(test_config: Config, tmp_path_factory: pytest.TempPathFactory, spark: SparkSession) -> Config:
    """A lake of its own holding the gold fixture's silver tables and the gold tables of 19-20 Nov."""
    config = test_config.model_copy(deep=True)
    config.lake.root = tmp_path_factory.mktemp("dashboard-lake").as_uri()
    config.redis.db = 3
    config.dashboard.top_posts = 1
    config.serving.api_keys = {
        "dash": ApiKeyConfig(sha256=hash_api_key(KEY), scopes=["dashboard"]),
        "other": ApiKeyConfig(sha256=hash_api_key(OTHER_KEY), scopes=["features:*"]),
    }
    for name, df in silver_frames(spark).items():
        if name != "predictions":  # none logged yet: the gold job reads an empty prediction log
            df.write.format("delta").save(SILVER_TABLES[name].path(config))
    return config


@pytest.fixture(scope="module")
def gold_written(spark: SparkSession, gold_config: Config) -> GoldSummary:
    """The gold job over 19-20 Nov (what the dashboard tests read)."""
    return run_gold(spark, gold_config, date(2026, 11, 19), date(2026, 11, 20))


def test_gold_job_is_idempotent(spark: SparkSession, gold_config: Config, gold_written: GoldSummary) -> None:
    first = gold_written
    tables = {name: read_delta(t.path(gold_config)).to_pylist() for name, t in GOLD_TABLES.items()}
    second = run_gold(spark, gold_config, date(2026, 11, 20), date(2026, 11, 20))  # re-run the last day
    again = {name: read_delta(t.path(gold_config)).to_pylist() for name, t in GOLD_TABLES.items()}
    # hashtags: p1's two on the 19th, three (source, tag) pairs on the 20th; b1 lost 9.1% of its followers in a week
    assert first.rows == {"gold_account_daily": 3, "gold_hashtag_daily": 5, "gold_seller_alerts": 1,
                          "gold_post_summary": 3}  # fmt: skip
    assert first.last_day_alerts == {("follower_drop_wow", "tiktok"): 1}
    assert second.rows["gold_account_daily"] == 2
    assert _canonical(again) == _canonical(tables)
    followers = sorted((r["date"], r["account_id"], r["followers"]) for r in tables["gold_account_daily"])
    assert followers == [(date(2026, 11, 19), "a1", 1000), (date(2026, 11, 20), "a1", 1030),
                         (date(2026, 11, 20), "b1", 500)]  # fmt: skip


def test_a_failing_suite_writes_nothing(
    spark: SparkSession, gold_config: Config, gold_written: GoldSummary, tmp_path: Path
) -> None:
    suites = tmp_path / "gold"
    suites.mkdir()
    expectation = {"type": "expect_column_values_to_be_between", "kwargs": {"column": "followers", "max_value": 999}}
    (suites / "gold_account_daily.json").write_text(json.dumps({"name": "too_small", "expectations": [expectation]}))
    strict = gold_config.model_copy(deep=True)
    strict.quality.expectations_dir = str(tmp_path)
    versions = {
        name: DeltaTable(t.path(gold_config).removeprefix("file://")).version() for name, t in GOLD_TABLES.items()
    }
    with pytest.raises(GoldQualityError) as raised:
        run_gold(spark, strict, date(2026, 11, 19), date(2026, 11, 19))
    assert str(raised.value) == (
        "gold_account_daily 2026-11-19..2026-11-19 fails too_small: "
        "expect_column_values_to_be_between(followers): 1 rows"
    )
    assert {
        name: DeltaTable(t.path(gold_config).removeprefix("file://")).version() for name, t in GOLD_TABLES.items()
    } == versions


def _canonical(tables: dict[str, list[dict]]) -> dict[str, list[str]]:
    return {name: sorted(map(repr, rows)) for name, rows in tables.items()}


@pytest.fixture(scope="module")
def dashboard_url(gold_config: Config, gold_written: GoldSummary) -> Iterator[str]:
    with background_server(create_app(gold_config)) as url:
        yield url


def test_dashboard_data_needs_the_dashboard_scope(dashboard_url: str) -> None:
    with httpx.Client(base_url=dashboard_url) as http:
        assert http.get("/dashboard").status_code == 200  # the login page, no data
        assert "a1" not in http.get("/dashboard").text
        assert http.get("/dashboard/api/accounts").status_code == 401
        assert http.get("/dashboard/api/health", headers={"X-API-Key": "wrong"}).status_code == 401
        assert http.get("/dashboard/api/accounts", headers={"X-API-Key": OTHER_KEY}).status_code == 403
        accounts = http.get("/dashboard/api/accounts", headers={"X-API-Key": KEY}).json()
        assert accounts == [
            {"source": "instagram", "account_id": "a1", "username": "a1"},
            {"source": "tiktok", "account_id": "b1", "username": "b1"},
        ]
        plotly = http.get("/dashboard/static/plotly.min.js")
        assert plotly.status_code == 200 and len(plotly.content) > 1_000_000  # served by the app, no CDN


def _driver():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        reason = "chromium/chromium-driver missing: apt-get install chromium chromium-driver"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = ARTIFACTS / "chromium-profile"
    shutil.rmtree(profile, ignore_errors=True)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1600", f"--user-data-dir={profile}"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def test_dashboard_in_a_real_browser(dashboard_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    ARTIFACTS.mkdir(exist_ok=True)
    driver = _driver()
    try:
        wait = WebDriverWait(driver, 20)
        driver.get(dashboard_url + "/dashboard")
        driver.find_element(By.ID, "key").send_keys(OTHER_KEY)  # a key without the dashboard scope: no data
        driver.find_element(By.ID, "login-button").click()
        wait.until(lambda d: d.find_element(By.ID, "error").text)
        assert driver.find_element(By.ID, "error").text.startswith("not allowed (HTTP 403): credential 'other'")
        assert not driver.find_element(By.ID, "app").is_displayed()
        driver.get_log("browser")  # drains the expected 403 from the console log
        driver.find_element(By.ID, "key").clear()
        driver.find_element(By.ID, "key").send_keys(KEY)
        started = time.monotonic()
        driver.find_element(By.ID, "login-button").click()
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-account") == "instagram/a1")
        print(f"dashboard: logged in and first account rendered in {time.monotonic() - started:.3f}s")
        Select(driver.find_element(By.ID, "account-picker")).select_by_value("tiktok/b1")
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-account") == "tiktok/b1")
        assert driver.find_element(By.ID, "chart-followers").get_attribute("data-points") == "1"
        assert "follower_drop" not in driver.find_element(By.ID, "alerts").text  # the message, not the rule id
        assert driver.find_element(By.ID, "alerts").text == "2026-11-20 followers 550 -> 500 (-9.1%) week over week"
        Select(driver.find_element(By.ID, "account-picker")).select_by_value("instagram/a1")
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-account") == "instagram/a1")
        driver.save_screenshot(str(ARTIFACTS / "dashboard.png"))

        points = {c: driver.find_element(By.ID, c).get_attribute("data-points")
                  for c in ("chart-followers", "chart-engagement", "chart-heatmap")}  # fmt: skip
        # a1: gold rows on 19 and 20 Nov; two posts published Thu 09:00 and Fri 14:00 UTC
        assert points == {"chart-followers": "2", "chart-engagement": "2,2", "chart-heatmap": "2"}
        svg_points = driver.execute_script(
            "return document.querySelectorAll('#chart-followers .scatterlayer .point').length"
        )
        assert svg_points == 2  # what plotly drew, not only what it was given
        caption = driver.find_element(By.CSS_SELECTOR, "#bottom-posts li[data-post-id='p2'] p.caption")
        assert caption.get_attribute("dir") == "rtl"
        text = driver.execute_script("return arguments[0].textContent", caption)
        assert text.encode("utf-8") == ARABIC_CAPTION.encode("utf-8")
        top = driver.find_element(By.CSS_SELECTOR, "#top-posts li[data-post-id='p1'] p.caption")
        assert top.get_attribute("dir") == "ltr" and "✨" in top.text
        hashtags = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#hashtags tbody td:first-child")]
        assert hashtags == ["#عباية", "#abaya"]  # newest day by views: 600 then 400
        assert driver.find_element(By.ID, "alerts").text == "no alerts"
        health = driver.find_element(By.ID, "health").text
        assert "gold_account_daily:" in health and "silver_post_metrics:" in health
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
    finally:
        driver.quit()

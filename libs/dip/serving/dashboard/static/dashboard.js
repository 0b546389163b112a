// DIP seller dashboard: every number comes from /dashboard/api/* with the key entered (or given as #key=...).
"use strict";

const KEY = "dip-dashboard-key";
const $ = (id) => document.getElementById(id);
const pct = (v) => (v === null || v === undefined ? "–" : (v * 100).toFixed(2) + "%");
const num = (v) => (v === null || v === undefined ? "–" : Number(v).toLocaleString("en"));

function headers() {
  const key = sessionStorage.getItem(KEY) || "";
  return key.split(".").length === 3 ? { Authorization: "Bearer " + key } : { "X-API-Key": key };
}

async function api(path) {
  const response = await fetch("/dashboard/api/" + path, { headers: headers() });
  if (response.status === 401 || response.status === 403) {
    sessionStorage.removeItem(KEY);
    const body = await response.json().catch(() => ({}));
    throw new Error(`not allowed (HTTP ${response.status}): ${body.detail || body.error || "no detail"}`);
  }
  if (!response.ok) throw new Error(path + ": HTTP " + response.status);
  return response.json();
}

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

const LAYOUT = { margin: { t: 10, r: 10, b: 40, l: 60 }, showlegend: true, legend: { orientation: "h" } };
const DAYS = { type: "date", tickformat: "%b %d", dtick: 86400000 };  // one tick per UTC day
const CONFIG = { displayModeBar: false, responsive: true };

function plot(id, traces, layout = {}) {
  Plotly.react($(id), traces, { ...LAYOUT, ...layout }, CONFIG);
  $(id).dataset.points = traces.map((t) => t.x.length).join(",");
}

function renderPosts(id, posts) {
  const list = $(id);
  list.replaceChildren();
  for (const post of posts) {
    const item = el("li", undefined, { "data-post-id": post.post_id });
    item.append(el("p", post.caption ?? "", { class: "caption", dir: post.dir }));
    const meta = `engagement ${pct(post.engagement_ratio)} · ${num(post.views)} views · ` +
      `${post.engagement_vs_median === null ? "–" : post.engagement_vs_median.toFixed(2) + "×"} the account's median`;
    item.append(el("span", meta, { class: "meta" }));
    list.append(item);
  }
}

function renderAccount(view) {
  const s = view.series;
  plot("chart-followers", [{ x: s.date, y: s.followers, type: "scatter", mode: "lines+markers", name: "followers" }],
    { xaxis: DAYS });
  plot("chart-engagement", [
    { x: s.date, y: s.engagement_mean, type: "scatter", mode: "lines+markers", name: "mean" },
    { x: s.date, y: s.engagement_median, type: "scatter", mode: "lines+markers", name: "median" },
  ], { xaxis: DAYS, yaxis: { tickformat: ".1%" } });
  const h = view.heatmap;
  Plotly.react($("chart-heatmap"), [{ type: "heatmap", x: h.hours, y: h.weekdays, z: h.z, colorscale: "Greens",
    reversescale: true, hoverongaps: false }], { ...LAYOUT, xaxis: { dtick: 3, title: "hour (UTC)" } }, CONFIG);
  $("chart-heatmap").dataset.points = String(h.cells);
  renderPosts("top-posts", view.posts.top);
  renderPosts("bottom-posts", view.posts.bottom);
  const body = $("hashtags").tBodies[0];
  body.replaceChildren();
  for (const tag of view.hashtags) {
    const row = el("tr");
    row.append(el("td", "#" + tag.hashtag, { dir: tag.dir }), el("td", num(tag.posts)), el("td", num(tag.views)),
      el("td", pct(tag.engagement_mean)));
    body.append(row);
  }
  $("alerts").replaceChildren(...(view.alerts.length ? view.alerts.map((a) => el("li", `${a.date} ${a.message}`))
    : [el("li", "no alerts")]));
  const live = view.live;
  $("live").textContent = live ? `live: ${num(live.followers)} followers (${live.follower_change >= 0 ? "+" : ""}` +
    `${num(live.follower_change)} since the previous snapshot)` : "no live numbers";
  document.body.dataset.account = view.source + "/" + view.account_id;
}

async function renderHealth() {
  const health = await api("health");
  const strip = $("health");
  strip.replaceChildren();
  for (const t of health.freshness) {
    const age = t.age_minutes === null ? "never written" : `${Math.round(t.age_minutes)} min ago`;
    strip.append(el("span", `${t.table}: ${age}`, { class: t.age_minutes === null || t.age_minutes > 1440 ? "stale" : "" }));
  }
  for (const d of health.dead_letters) {
    strip.append(el("span", `${d.kind} ${d.name}: ${d.rows}`, { class: d.rows ? "bad" : "" }));
  }
}

async function showAccount(value) {
  const [source, ...rest] = value.split("/");
  renderAccount(await api(`accounts/${encodeURIComponent(source)}/${encodeURIComponent(rest.join("/"))}`));
}

async function start() {
  const accounts = await api("accounts");
  $("login").hidden = true;
  $("app").hidden = false;
  const picker = $("account-picker");
  picker.replaceChildren(...accounts.map((a) => el("option", `${a.username} (${a.source})`,
    { value: `${a.source}/${a.account_id}` })));
  picker.onchange = () => showAccount(picker.value).catch(fail);
  await renderHealth();
  if (accounts.length) await showAccount(picker.value);
}

function fail(error) {
  $("login").hidden = false;
  $("app").hidden = true;
  $("error").textContent = String(error.message || error);
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("key").value.trim());
  start().catch(fail);
});

const given = new URLSearchParams(location.hash.slice(1)).get("key");
if (given) {
  sessionStorage.setItem(KEY, given);
  history.replaceState(null, "", location.pathname);  // the key leaves the address bar
}
if (sessionStorage.getItem(KEY)) start().catch(fail);

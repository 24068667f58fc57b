// The dashboard's one script: reads the key (the URL fragment #key=... or the form; kept in this tab's
// sessionStorage only), fetches /v1/llmgw/dashboard and draws every panel with Chart.js. Each panel
// says whether it drew data (data-points), which the browser test reads.
/* global Chart */
"use strict";

const PALETTE = ["#3b6fd8", "#e0803a", "#3aa676", "#c44f6a", "#8a63c9", "#c9a33a", "#4fb3c4", "#7a7f8c"];
const charts = new Map();
const $ = (id) => document.getElementById(id);
const usd = (x) => (x >= 100 ? `$${x.toFixed(0)}` : x >= 1 ? `$${x.toFixed(2)}` : `$${x.toPrecision(2)}`);
const pct = (x) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)}%`);

function keyFromFragment() {
  const m = /(?:^|[#&])key=([^&]+)/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, "", location.pathname + location.search);
  return decodeURIComponent(m[1]);
}

function draw(name, config, points) {
  const panel = document.querySelector(`[data-panel="${name}"]`);
  if (!panel) return;
  const canvas = panel.querySelector("canvas");
  charts.get(name)?.destroy();
  const empty = panel.querySelector(".empty") ?? Object.assign(document.createElement("p"), { className: "empty" });
  empty.textContent = points > 0 ? "" : "No data in this window yet.";
  if (!empty.isConnected) panel.appendChild(empty);
  config.options = { responsive: true, maintainAspectRatio: false, animation: false, ...config.options };
  charts.set(name, new Chart(canvas, config));
  panel.dataset.points = String(points);
}

function stacked(horizontal = false) {
  return { indexAxis: horizontal ? "y" : "x", scales: { x: { stacked: true }, y: { stacked: true } } };
}

function render(d) {
  const t = d.spend.total;
  $("kpi-cost").textContent = usd(t.cost_usd);
  $("kpi-baseline").textContent = usd(t.baseline_usd);
  $("kpi-savings").textContent = t.baseline_usd > 0 ? `${usd(t.savings_usd)} (${pct(t.savings_usd / t.baseline_usd)})` : usd(t.savings_usd);
  $("kpi-hit").textContent = pct(d.cache.hit_rate);
  $("kpi-escalation").textContent = pct(d.routing.escalation_rate);
  const pol = d.shadow.policy;
  $("kpi-policy").textContent = pol ? `v${pol.version}${pol.canary ? ` + canary v${pol.canary.version} (${pct(pol.canary.share)})` : ""}` : "–";
  $("policy-note").textContent = pol ? `Live policy v${pol.version}: ${pol.reason || "configured overrides"}` : "";

  const series = d.spend.series;
  draw("spend", {
    type: "line",
    data: {
      labels: series.map((p) => p.t.slice(5, 16).replace("T", " ")),
      datasets: [
        { label: "cost (USD)", data: series.map((p) => p.cost_usd), borderColor: PALETTE[0], backgroundColor: PALETTE[0], tension: 0.2 },
        { label: "baseline (USD)", data: series.map((p) => p.baseline_usd), borderColor: PALETTE[7], backgroundColor: PALETTE[7], borderDash: [6, 4], tension: 0.2 },
      ],
    },
  }, series.length);

  const s = d.spend.savings_split;
  const parts = [["cache", s.cache_usd], ["routing", s.routing_usd], ["cascade", s.cascade_usd], ["batch", s.batch_usd]];
  draw("savings", {
    type: "doughnut",
    data: { labels: parts.map((p) => p[0]), datasets: [{ data: parts.map((p) => p[1]), backgroundColor: PALETTE.slice(0, 4) }] },
  }, parts.filter((p) => p[1] > 0).length);

  const outcomes = ["hit_exact", "hit_semantic", "miss", "bypass"];
  const cats = d.cache.by_category;
  draw("cache", {
    type: "bar",
    data: { labels: cats.map((c) => c.category), datasets: outcomes.map((o, i) => ({ label: o, data: cats.map((c) => c[o] ?? 0), backgroundColor: PALETTE[i] })) },
    options: stacked(),
  }, cats.length);

  const tiers = [...new Set(d.routing.by_tier_model.map((r) => r.tier))];
  const models = [...new Set(d.routing.by_tier_model.map((r) => r.model))];
  draw("routing", {
    type: "bar",
    data: {
      labels: tiers,
      datasets: models.map((m, i) => ({ label: m || "(no model)", data: tiers.map((t) => d.routing.by_tier_model.find((r) => r.tier === t && r.model === m)?.requests ?? 0), backgroundColor: PALETTE[i % PALETTE.length] })),
    },
    options: stacked(),
  }, d.routing.by_tier_model.length);

  const ro = d.routing.outcomes;
  draw("escalation", {
    type: "doughnut",
    data: { labels: ro.map((r) => r.outcome), datasets: [{ data: ro.map((r) => r.requests), backgroundColor: ro.map((r) => (r.outcome === "escalated" ? PALETTE[3] : r.outcome === "cascade_verified" ? PALETTE[2] : PALETTE[7])) }] },
  }, ro.length);

  const f = d.shadow.findings;
  draw("shadow", {
    type: "bar",
    data: {
      labels: f.map((x) => `${x.category}/${x.tier} ${x.from_model}→${x.to_model} (n=${x.samples})`),
      datasets: [
        { label: "95% interval", data: f.map((x) => [x.low, x.high]), backgroundColor: f.map((x) => (x.safe ? "#3aa67699" : "#c44f6a66")) },
        { label: "pass rate", type: "line", data: f.map((x) => x.pass_rate), borderColor: PALETTE[0], backgroundColor: PALETTE[0], showLine: false, pointRadius: 5 },
      ],
    },
    options: { indexAxis: "x", scales: { y: { min: 0, max: 1 } } },
  }, f.length);

  const b = d.budgets;
  draw("budgets", {
    type: "bar",
    data: {
      labels: b.map((x) => `${x.tenant_id}${x.key_id ? `/${x.key_id.slice(0, 8)}` : ""} (${x.period})`),
      datasets: [{ label: "share of limit used", data: b.map((x) => x.used ?? 0), backgroundColor: b.map((x) => ((x.used ?? 0) >= 0.9 ? PALETTE[3] : (x.used ?? 0) >= 0.7 ? PALETTE[1] : PALETTE[2])) }],
    },
    options: { indexAxis: "y", scales: { x: { min: 0, suggestedMax: 1 } } },
  }, b.length);

  const pc = d.providers.calls;
  const providers = [...new Set(pc.map((r) => r.provider))];
  draw("providers", {
    type: "bar",
    data: {
      labels: providers,
      datasets: ["ok", "error"].map((st, i) => ({ label: st, data: providers.map((p) => pc.find((r) => r.provider === p && r.status === st)?.requests ?? 0), backgroundColor: i === 0 ? PALETTE[2] : PALETTE[3] })),
    },
    options: stacked(),
  }, pc.length);

  const br = d.providers.breakers;
  document.querySelector('[data-panel="breakers"]').classList.toggle("hidden", br === null);
  if (br) {
    const colour = { closed: PALETTE[2], half_open: PALETTE[1], open: PALETTE[3] };
    draw("breakers", {
      type: "bar",
      data: {
        labels: br.map((x) => `${x.model} (${x.state})`),
        // One bar per deployment: its in-flight calls, at least a sliver so a breaker's colour shows.
        datasets: [{ label: "in flight (colour: breaker state)", data: br.map((x) => Math.max(x.in_flight, 0.05)), backgroundColor: br.map((x) => colour[x.state] ?? PALETTE[7]) }],
      },
      options: { indexAxis: "y" },
    }, br.length);
  }
}

async function load() {
  const key = $("key").value.trim() || sessionStorage.getItem("llmgw-key") || "";
  if (!key) {
    $("status").textContent = "Enter a gateway key (admin: every tenant; tenant key: its own).";
    return;
  }
  sessionStorage.setItem("llmgw-key", key);
  const params = new URLSearchParams({ window: $("window").value });
  const tenant = $("tenant").value.trim();
  if (tenant) params.set("tenant_id", tenant);
  $("status").textContent = "Loading…";
  const res = await fetch(`/v1/llmgw/dashboard?${params}`, { headers: { authorization: `Bearer ${key}` } });
  const body = await res.json();
  if (!res.ok) {
    $("status").textContent = `Error ${res.status}: ${body.error?.message ?? "request failed"}`;
    return;
  }
  $("tenant-label").classList.toggle("hidden", body.scope === "own tenant");
  render(body);
  document.body.dataset.scope = body.scope;
  document.body.dataset.tenant = body.tenant_id ?? "";
  $("status").textContent = `${body.scope}${body.tenant_id ? ` ${body.tenant_id}` : ""} since ${body.since.slice(0, 16).replace("T", " ")} UTC`;
  document.body.dataset.ready = "true";
}

$("controls").addEventListener("submit", (e) => {
  e.preventDefault();
  load().catch((err) => ($("status").textContent = `Error: ${err.message}`));
});
const fromFragment = keyFromFragment();
if (fromFragment) sessionStorage.setItem("llmgw-key", fromFragment);
load().catch((err) => ($("status").textContent = `Error: ${err.message}`));

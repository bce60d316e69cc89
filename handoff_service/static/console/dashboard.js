// The supervisors' dashboard (GET /api/metrics/dashboard): filters (dates in the service zone,
// channel, language, tier, category, team, agent), summary cards with the change against the
// previous period, the charts with their tables, the per-agent and per-team tables, and the
// downloads — the cases and every table, always with exactly the filters on screen.

import { api, errorText } from "./api.js";
import { $, clear, el } from "./dom.js";
import { label, t } from "./i18n.js";
import { chartBlock, dataTable, destroyCharts, exportLink, heatmapBlock, loadChartJs } from "./dashboard_charts.js";
import {
  ds, exportUrl, fmtChange, fmtCount, fmtRatio, fmtScore, fmtSeconds, fmtValue, loadDashboard, loadDictionary,
  metricDefinition, metricLabel,
} from "./dashboard_data.js";
import { forgetForecast, renderForecast } from "./forecast.js";

const CHANNELS = ["socketio", "callback", "rest"];
const LANGUAGES = ["zh", "en"];
const TIMES = ["claim_time", "first_response", "reply_time", "resolution_time"];
let options = { tiers: [], staff: [] };

// What the filter form offers: tiers, agents and teams from the service.
async function loadOptions() {
  const [tiers, staff] = await Promise.all([api("GET", "/api/sla/tiers"), api("GET", "/api/staff")]);
  options = { tiers: (tiers.tiers || []).map((x) => x.name), staff: (staff.staff || []).filter((s) => s.role === "agent") };
}

function select(name, values, text) {
  const s = el("select", { id: `dash-${name}`, name },
    el("option", { value: "", text: t("dash_all") }), values.map((v) => el("option", { value: v, text: text ? text(v) : v })));
  s.value = ds.filters[name] || "";
  return s;
}

const field = (name, control) => el("div", { className: "dash-field" }, el("label", { for: `dash-${name}`, text: t("dash_f_" + name) }), control);

function filterForm() {
  const teams = [...new Set(options.staff.map((s) => s.team).filter(Boolean))].sort();
  const categories = ((ds.data && ds.data.categories) || []).map((c) => c.category);
  const date = (name) => el("input", { id: `dash-${name}`, name, type: "date", value: ds.filters[name] || "" });
  const form = el("form", { id: "dash-filters", className: "dash-filters", "aria-label": t("dash_filters") },
    field("from", date("from")), field("to", date("to")),
    field("granularity", select("granularity", ["day", "hour"], (v) => t("dash_g_" + v))),
    field("channel", select("channel", CHANNELS)),
    field("language", select("language", LANGUAGES, (v) => t("lang_" + v))),
    field("tier", select("tier", options.tiers, (v) => label("tiers", v))),
    field("category", el("input", { id: "dash-category", name: "category", list: "dash-categories", value: ds.filters.category || "", maxlength: "64" })),
    el("datalist", { id: "dash-categories" }, categories.map((c) => el("option", { value: c }))),
    field("team", select("team", teams)),
    field("agent", select("agent", options.staff.map((s) => s.username))),
    el("button", { type: "submit", text: t("dash_apply") }));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    for (const node of form.querySelectorAll("[name]")) ds.filters[node.name] = node.value.trim();
    refresh();
  });
  return form;
}

// A card's metric: "claim_time_p50" is the p50 of the dictionary's "claim_time".
const cardMetric = (key) => (key.endsWith("_p50") && ds.dictionary[key.slice(0, -4)] ? key.slice(0, -4) : key);

function card(c) {
  const metric = cardMetric(c.key);
  const unit = c.unit || (ds.dictionary[metric] || {}).unit;
  const sub = [t("dash_previous", { v: fmtValue(unit, c.previous) })];
  if (typeof c.cases === "number" && typeof c.events === "number" && c.cases !== c.events) sub.push(t("dash_cases_events", { c: c.cases, e: c.events }));
  return el("div", { className: "kpi dash-card", "data-key": c.key, title: metricDefinition(metric) },
    el("span", { className: "kpi-label", text: metricLabel(metric) + (metric === c.key ? "" : " p50") }),
    el("strong", { className: "kpi-value", text: fmtValue(unit, c.value) }),
    el("span", { className: "dash-change", text: fmtChange(c.change) }),
    el("span", { className: "muted", text: sub.join(" · ") }));
}

function timesTable(times) {
  const rows = TIMES.filter((k) => times && times[k]).map((k) => {
    const x = times[k];
    return [t("dash_time_" + k), fmtSeconds(x.p50), fmtSeconds(x.p90), fmtSeconds(x.mean), fmtCount(x.cases), fmtCount(x.events)];
  });
  return dataTable(t("dash_times"), [t("dash_metric"), "p50", "p90", t("dash_mean"), t("dash_cases"), t("dash_events")], rows, "table-times");
}

function charts(d) {
  const points = (d.series && d.series.points) || [];
  const series = ["cases_new", "cases_resolved", "cases_reopened", "handoffs"];
  const buckets = d.first_response_buckets || [];
  const dist = (d.csat && d.csat.distribution) || {};
  const sla = d.sla || [];
  const cats = d.categories || [];
  return [
    chartBlock({ id: "series", table: "series", type: "line", title: t("dash_series"),
      labels: points.map((p) => p.t), datasets: series.map((k) => ({ label: t("dash_s_" + k), data: points.map((p) => p[k] || 0) })),
      head: [t("dash_time"), ...series.map((k) => t("dash_s_" + k)), t("dash_time_first_response") + " p50"],
      rows: points.map((p) => [p.t, ...series.map((k) => fmtCount(p[k] || 0)), fmtSeconds(p.first_response_p50)]) }),
    chartBlock({ id: "buckets", table: "first_response_buckets", type: "bar", title: t("dash_buckets"),
      labels: buckets.map((b) => b.bucket), datasets: [{ label: t("dash_cases"), data: buckets.map((b) => b.cases) }],
      head: [t("dash_bucket"), t("dash_cases")], rows: buckets.map((b) => [b.bucket, fmtCount(b.cases)]) }),
    chartBlock({ id: "sla", table: "sla", type: "bar", title: t("dash_sla"), percent: true,
      labels: sla.map((s) => `${label("tiers", s.tier)} · ${t("deadline_" + s.deadline)}`),
      datasets: [{ label: t("dash_attainment"), data: sla.map((s) => (typeof s.attainment === "number" ? s.attainment * 100 : null)) }],
      head: [t("dash_tier"), t("dash_deadline"), t("dash_met"), t("dash_breached"), t("dash_attainment")],
      rows: sla.map((s) => [label("tiers", s.tier), t("deadline_" + s.deadline), fmtCount(s.met), fmtCount(s.breached), fmtRatio(s.attainment)]) }),
    chartBlock({ id: "csat", table: "csat", type: "bar", title: t("dash_csat"),
      labels: ["1", "2", "3", "4", "5"], datasets: [{ label: t("dash_responses"), data: ["1", "2", "3", "4", "5"].map((k) => dist[k] || 0) }],
      head: [t("dash_score"), t("dash_responses")], rows: ["1", "2", "3", "4", "5"].map((k) => [k, fmtCount(dist[k] || 0)]) }),
    chartBlock({ id: "categories", table: "categories", type: "bar", horizontal: true, title: t("dash_categories"),
      labels: cats.map((c) => c.category), datasets: [{ label: t("dash_cases"), data: cats.map((c) => c.cases) }],
      head: [t("dash_category"), t("dash_cases"), t("dash_share")], rows: cats.map((c) => [c.category, fmtCount(c.cases), fmtRatio(c.share)]) }),
  ];
}

// Per agent (owned cases credited to the owner, handler figures to the last handler) and per team.
function peopleTable(kind, rows) {
  const head = [t(kind === "agents" ? "dash_agent" : "dash_team"), t("dash_owned"), t("dash_handled"), t("dash_resolved"),
    t("dash_time_first_response") + " p50", t("dash_sla_first"), t("dash_csat_owner"), t("dash_csat_handler")];
  const who = (r) => (kind === "teams" ? r.team || t("dash_no_team") : !r.agent ? t("dash_no_owner") : r.display_name ? `${r.display_name} (${r.agent})` : r.agent);
  const body = (rows || []).map((r) => [who(r),
    fmtCount(r.cases_owned), fmtCount(r.cases_handled), fmtCount(r.resolved), fmtSeconds(r.first_response_p50),
    fmtRatio(r.sla_first_response_attainment), fmtScore(r.csat_owner_mean), fmtScore(r.csat_handler_mean)]);
  return el("section", { className: "dash-chart wide" }, dataTable(t("dash_" + kind), head, body, "table-" + kind), exportLink(kind));
}

// Satisfaction beside its distribution: the mean, the share of 4-5, the response rate and each
// dimension's mean (attitude, speed, solved), named by the dictionary.
function csatTable(c) {
  const x = c || {};
  const dims = x.dimensions || {};
  const rows = [["csat_mean", fmtScore(x.mean)], ["csat_share_4_5", fmtRatio(x.share_4_5)], ["csat_response_rate", fmtRatio(x.response_rate)],
    ...["attitude", "speed", "solved"].map((k) => ["csat_" + k, fmtScore(dims[k])])].map(([key, v]) => [metricLabel(key), v]);
  return el("section", { className: "dash-chart" }, dataTable(t("dash_csat_dims"), [t("dash_metric"), t("dash_value")], rows, "table-csat-dims"));
}

function followUps(f) {
  if (!f) return null;
  return el("p", { className: "muted", id: "dash-follow-ups" }, t("dash_follow_ups", {
    p: fmtCount(f.planned), a: fmtCount(f.answered), s: fmtCount(f.solved), n: fmtCount(f.not_solved), x: fmtCount(f.no_answer), c: fmtRatio(f.completion),
  }));
}

export function renderDashboard() {
  const box = $("dashboard-view");
  if (!box) return;
  destroyCharts();
  clear(box);
  box.append(el("h2", { id: "dashboard-h", text: t("dash_title") }), filterForm());
  if (ds.failure) { box.append(el("p", { className: "warning", role: "alert", text: ds.failure })); return; }
  const d = ds.data;
  if (!d) { box.append(el("p", { className: "muted", text: t("dash_loading") })); return; }
  const period = d.period || {};
  const blocks = charts(d);
  box.append(
    el("p", { className: "muted", id: "dash-period" }, t("dash_period", { from: period.from, to: period.to, tz: period.tz || "" }),
      " · ", el("a", { href: exportUrl("cases"), download: "", id: "dash-export-cases", text: t("dash_export_cases") })),
    el("div", { className: "dash-cards", id: "dash-cards" }, (d.cards || []).map(card)),
    followUps(d.follow_ups),
    timesTable(d.times),
    el("div", { className: "dash-charts" }, blocks.map((b) => b.block), csatTable(d.csat), heatmapBlock(d.heatmap)),
    peopleTable("agents", d.agents), peopleTable("teams", d.teams),
    el("section", { id: "forecast", className: "dash-chart wide", "aria-labelledby": "forecast-h" }));
  renderForecast($("forecast"));
  loadChartJs().then((Chart) => blocks.forEach((b) => b.draw(Chart)))
    .catch(() => box.append(el("p", { className: "warning", text: t("dash_no_charts") })));
}

// While the figures load, the view says so (aria-busy) and keeps the previous ones on screen.
export async function refresh() {
  const view = $("dashboard-view");
  view.setAttribute("aria-busy", "true");
  const period = $("dash-period");
  if (period) period.prepend(el("span", { className: "loading", text: t("dash_loading") + " " }));
  try {
    await loadDictionary();
    await loadDashboard();
    ds.failure = "";
  } catch (e) {
    ds.data = null;
    ds.failure = t("dash_error", { msg: errorText(e) });
  }
  renderDashboard();
  view.setAttribute("aria-busy", "false");
}

export async function enterDashboard() {
  try { await loadOptions(); } catch { /* the form offers fewer choices */ }
  forgetForecast();
  await refresh();
}

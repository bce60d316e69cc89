// The dashboard's data: its filters as a query string (the same one the view and every export
// use, so an export holds exactly what is on screen), the metric dictionary, and how figures
// of each unit are written.

import { api } from "./api.js";
import { getLang, t } from "./i18n.js";

// The filters the dashboard API takes, in the order the form shows them.
export const FILTERS = ["from", "to", "granularity", "channel", "language", "tier", "category", "team", "agent"];

// The tables behind the charts, as GET /api/metrics/export?table= names them.
export const TABLES = ["series", "first_response_buckets", "heatmap", "sla", "csat", "agents", "teams", "categories"];

export const ds = {
  filters: {}, // what the form says: name -> value ("" = all)
  data: null, // the last GET /api/metrics/dashboard
  dictionary: {}, // key -> {unit, label: {zh, en}, definition: {zh, en}}
  failure: "",
};

// The query string of the current filters: only the ones set, in a stable order.
export function query(extra) {
  const q = new URLSearchParams();
  for (const name of FILTERS) if (ds.filters[name]) q.set(name, ds.filters[name]);
  for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
  return q.toString();
}

export const exportUrl = (table) => "/api/metrics/export?" + query({ table });

export async function loadDictionary() {
  if (Object.keys(ds.dictionary).length) return;
  const data = await api("GET", "/api/metrics/dictionary");
  for (const m of (data && data.metrics) || []) ds.dictionary[m.key] = m;
}

export async function loadDashboard() {
  ds.data = await api("GET", "/api/metrics/dashboard?" + query());
  // the server's normalised filters (default dates, zone) fill the form
  for (const name of FILTERS) {
    const v = ds.data.filters && ds.data.filters[name];
    if (v !== undefined && v !== null && !ds.filters[name]) ds.filters[name] = String(v);
  }
}

// A metric's name and definition in the console's language (else its key).
export function metricLabel(key) {
  const m = ds.dictionary[key];
  return (m && m.label && m.label[getLang()]) || key;
}

export function metricDefinition(key) {
  const m = ds.dictionary[key];
  return (m && m.definition && m.definition[getLang()]) || "";
}

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

// A duration in seconds, to the precision that matters: 45 秒 / 12 分 / 3 小时 5 分 / 2 天 4 小时.
export function fmtSeconds(s) {
  if (!isNum(s)) return t("none");
  const v = Math.round(s);
  if (v < 60) return t("dur_s", { s: v });
  if (v < 3600) return t("dur_m", { m: Math.round(v / 60) });
  if (v < 86400) return t("dur_hm", { h: Math.floor(v / 3600), m: Math.round((v % 3600) / 60) });
  return t("dur_dh", { d: Math.floor(v / 86400), h: Math.round((v % 86400) / 3600) });
}

export const fmtRatio = (r) => (isNum(r) ? (r * 100).toFixed(1) + "%" : t("none"));
export const fmtScore = (x) => (isNum(x) ? x.toFixed(2) : t("none"));
export const fmtCount = (n) => (isNum(n) ? n.toLocaleString(getLang() === "zh" ? "zh-CN" : "en-GB") : t("none"));

// A value of the given unit (the dictionary's: count, seconds, ratio, score).
export function fmtValue(unit, v) {
  if (unit === "seconds") return fmtSeconds(v);
  if (unit === "ratio") return fmtRatio(v);
  if (unit === "score") return fmtScore(v);
  return fmtCount(v);
}

// The change against the previous period: "▲ 12.0%", "▼ 3.5%", "—" when there is nothing to compare.
export function fmtChange(change) {
  if (!isNum(change)) return t("dash_no_change");
  const arrow = change > 0 ? "▲" : change < 0 ? "▼" : "＝";
  return `${arrow} ${(Math.abs(change) * 100).toFixed(1)}%`;
}

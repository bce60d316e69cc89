// The trainers' KPIs strip (GET /api/review/kpis?days=14): the backlog, items labelled per day,
// the median hours from collection to label, and the fallback rate per language per week.

import { api, errorText } from "./api.js";
import { $, clear, el } from "./dom.js";
import { t } from "./i18n.js";
import { rs } from "./review_list.js";

let kpis = null, failure = "";

export async function loadKpis() {
  try {
    kpis = await api("GET", "/api/review/kpis?days=14");
    failure = "";
    if (kpis.zone) rs.zone = kpis.zone;
  } catch (e) {
    kpis = null;
    failure = errorText(e);
  }
  renderKpis();
}

let timer = null;
// After an action: the figures again, once the trainer pauses.
export function kpisSoon() {
  clearTimeout(timer);
  timer = setTimeout(loadKpis, 800);
}

const figure = (key, value, id) => el("div", { className: "kpi" },
  el("span", { className: "kpi-label", text: t(key) }), el("strong", { className: "kpi-value", id, text: value }));

function table(caption, head, rows, id) {
  return el("table", { className: "kpi-table", id },
    el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows.length ? rows.map((r) => el("tr", {}, r.map((c) => el("td", { text: c }))))
      : el("tr", {}, el("td", { colspan: head.length, className: "empty", text: t("kpi_none") }))));
}

export function renderKpis() {
  const box = $("kpi-body");
  clear(box);
  if (!kpis) {
    if (failure) box.append(el("p", { className: "warning", text: t("kpi_error", { msg: failure }) }));
    return;
  }
  const median = typeof kpis.median_hours_to_label === "number" ? t("kpi_hours", { h: kpis.median_hours_to_label }) : t("none");
  const days = Array.isArray(kpis.labelled_per_day) ? kpis.labelled_per_day : [];
  const rates = Array.isArray(kpis.fallback_rate) ? kpis.fallback_rate : [];
  const pct = (r) => (typeof r === "number" ? (r * 100).toFixed(1) + "%" : t("none"));
  box.append(
    el("div", { className: "kpi-figures" },
      figure("kpi_backlog", String(kpis.backlog ?? t("none")), "kpi-backlog"),
      figure("kpi_median", median, "kpi-median")),
    // the days across, as a compact two-row table
    el("table", { className: "kpi-table kpi-days", id: "kpi-per-day" },
      el("caption", { text: t("kpi_per_day", { zone: kpis.zone || "" }) }),
      el("tbody", {},
        el("tr", {}, el("th", { scope: "row", text: t("kpi_day") }), days.map((d) => el("th", { scope: "col", text: String(d.day).slice(5) }))),
        el("tr", {}, el("th", { scope: "row", text: t("kpi_count") }), days.map((d) => el("td", { text: String(d.count) })))),
    ),
    table(t("kpi_fallback"), [t("kpi_week"), t("language"), t("kpi_messages"), t("kpi_fallbacks"), t("kpi_rate")],
      rates.map((r) => [String(r.week), String(r.language), String(r.messages), String(r.fallbacks), pct(r.rate)]), "kpi-fallback"));
}

// The evaluation reports trainers publish with `make evaluate` (GET /api/review/reports): the
// newest first; the chosen one's Markdown is shown as plain text, never as HTML.

import { api, errorText } from "./api.js";
import { $, clear, el, fmtTime } from "./dom.js";
import { t } from "./i18n.js";

let reports = [], failure = "", shown = null;

export async function loadReports() {
  try {
    reports = (await api("GET", "/api/review/reports?limit=10")).reports || [];
    failure = "";
  } catch (e) {
    reports = [];
    failure = errorText(e);
  }
  renderReports();
}

async function show(id) {
  try {
    const report = await api("GET", `/api/review/reports/${encodeURIComponent(id)}`);
    shown = id;
    $("report-text").textContent = report.markdown;
    $("report-text").hidden = false;
    $("reports-note").textContent = "";
  } catch (e) {
    $("reports-note").textContent = t("reports_error", { msg: errorText(e) });
  }
  renderReports();
}

export function renderReports() {
  const list = $("reports-list");
  clear(list);
  reports.forEach((r) => {
    const verdict = t(r.passed ? "report_passed" : "report_failed");
    const line = t("report_line", { at: fmtTime(r.created_at), by: r.created_by || "?", verdict, title: r.title });
    list.append(el("li", { className: r.passed ? "passed" : "failed" },
      el("button", { type: "button", className: "link", text: line, "aria-pressed": String(r.id === shown),
        "data-report-id": r.id, onclick: () => show(r.id) })));
  });
  if (failure) $("reports-note").textContent = t("reports_error", { msg: failure });
  else if (!reports.length) $("reports-note").textContent = t("reports_none");
}

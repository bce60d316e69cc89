// The dashboard's charts: Chart.js (vendored in /static/vendor/chartjs/, loaded the first time
// the dashboard opens) draws each one on a canvas, and each chart comes with the table of its
// numbers (screen readers read the table; the canvas is an image with a label) and a link to
// download that table as CSV with the view's filters.

import { el } from "./dom.js";
import { t } from "./i18n.js";
import { exportUrl, fmtCount } from "./dashboard_data.js";

const CHART_JS = "/static/vendor/chartjs/chart.umd.min.js";
const COLORS = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2"];
let loading = null;
const charts = new Map(); // canvas id -> Chart, destroyed before the next drawing

// window.Chart, once: a <script> from this server (CSP script-src 'self').
export function loadChartJs() {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = CHART_JS;
      s.onload = () => resolve(window.Chart);
      s.onerror = () => { loading = null; reject(new Error("chart.js")); };
      document.head.append(s);
    });
  }
  return loading;
}

export function destroyCharts() {
  for (const c of charts.values()) c.destroy();
  charts.clear();
}

// A table: caption, column heads, rows of cell texts (the first cell of a row is its header).
export function dataTable(caption, head, rows, id) {
  return el("table", { className: "kpi-table", id },
    el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows.length
      ? rows.map((r) => el("tr", {}, r.map((c, i) => (i === 0 ? el("th", { scope: "row", text: c }) : el("td", { text: c })))))
      : el("tr", {}, el("td", { colspan: head.length, className: "empty", text: t("kpi_none") }))));
}

export const exportLink = (table) =>
  el("a", { className: "export", href: exportUrl(table), download: "", "data-table": table, text: t("dash_export_table") });

// A chart block: heading, canvas (an image labelled with the heading), its table and its export link.
// spec: {id, title, table, type, labels, datasets: [{label, data}], horizontal?, percent?, head, rows}
export function chartBlock(spec) {
  const canvas = el("canvas", { id: `chart-${spec.id}`, role: "img", "aria-label": spec.title, height: "220" });
  const block = el("section", { className: "dash-chart", "aria-labelledby": `chart-${spec.id}-h` },
    el("h3", { id: `chart-${spec.id}-h`, text: spec.title }),
    el("div", { className: "dash-canvas" }, canvas),
    el("details", { className: "dash-data" }, el("summary", { text: t("dash_show_table") }),
      dataTable(spec.title, spec.head, spec.rows, `table-${spec.id}`)),
    exportLink(spec.table));
  return { block, draw: (Chart) => draw(Chart, canvas, spec) };
}

function draw(Chart, canvas, spec) {
  const old = charts.get(canvas.id);
  if (old) old.destroy();
  const chart = new Chart(canvas, {
    type: spec.type,
    data: {
      labels: spec.labels,
      datasets: spec.datasets.map((d, i) => ({
        label: d.label, data: d.data, borderColor: COLORS[i % COLORS.length],
        backgroundColor: COLORS[i % COLORS.length] + (spec.type === "line" ? "33" : "cc"), tension: 0.2,
      })),
    },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      indexAxis: spec.horizontal ? "y" : "x",
      plugins: { legend: { display: spec.datasets.length > 1 } },
      scales: spec.percent ? { [spec.horizontal ? "x" : "y"]: { min: 0, max: 100 } } : { [spec.horizontal ? "x" : "y"]: { beginAtZero: true } },
    },
  });
  charts.set(canvas.id, chart);
}

// The hour × weekday volume as a table of shaded cells: rows are weekdays (Monday first), columns hours.
export function heatmapBlock(cells) {
  const counts = Array.from({ length: 7 }, () => new Array(24).fill(0));
  for (const c of cells || []) if (c.weekday >= 0 && c.weekday < 7 && c.hour >= 0 && c.hour < 24) counts[c.weekday][c.hour] = c.cases;
  const max = Math.max(1, ...counts.flat());
  const hours = Array.from({ length: 24 }, (_, h) => String(h));
  const table = el("table", { className: "kpi-table heatmap", id: "table-heatmap" },
    el("caption", { text: t("dash_heatmap") }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("dash_weekday") }), hours.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, counts.map((row, d) => el("tr", {}, el("th", { scope: "row", text: t("weekday_" + d) }),
      row.map((n) => {
        const td = el("td", { text: fmtCount(n) });
        // shade by share of the busiest hour (CSSOM, allowed by the CSP)
        td.style.backgroundColor = `rgba(37, 99, 235, ${(0.08 + 0.85 * (n / max)).toFixed(2)})`;
        if (n / max > 0.55) td.classList.add("dark");
        return td;
      })))));
  return el("section", { className: "dash-chart wide", "aria-labelledby": "heatmap-h" },
    el("h3", { id: "heatmap-h", text: t("dash_heatmap") }), el("div", { className: "heatmap-scroll" }, table), exportLink("heatmap"));
}

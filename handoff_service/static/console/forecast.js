// Next week's staffing (GET /api/staffing/forecast): the agents needed per hour (Erlang C from
// the last weeks' handoffs and handle times) next to the agents scheduled in the weekly plan,
// which the supervisor edits in the same grid (PUT /api/staffing/plan), and the current hour
// against the agents online now. Hours are those of the service zone.

import { api, errorText } from "./api.js";
import { clear, el } from "./dom.js";
import { t } from "./i18n.js";
import { fmtRatio, fmtSeconds } from "./dashboard_data.js";

let forecast = null, failure = "", saved = "";
let box = null;

const total = (byTier) => (byTier && typeof byTier.total === "number" ? byTier.total : null);

async function load() {
  try {
    forecast = await api("GET", "/api/staffing/forecast");
    failure = "";
  } catch (e) {
    forecast = null;
    failure = t("fc_error", { msg: errorText(e) });
  }
}

async function savePlan(form) {
  const hours = [];
  for (const input of form.querySelectorAll("input[data-weekday]")) {
    const agents = Number.parseInt(input.value || "0", 10);
    if (!Number.isInteger(agents) || agents < 0) { saved = t("fc_bad_number"); draw(); return; }
    if (agents > 0) hours.push({ weekday: Number(input.dataset.weekday), hour: Number(input.dataset.hour), agents });
  }
  try {
    await api("PUT", "/api/staffing/plan", { hours });
    saved = t("fc_saved");
  } catch (e) {
    saved = errorText(e);
  }
  await load();
  draw();
}

// Rows are hours, columns weekdays (Monday first): "needed" over an input of the agents scheduled.
function grid(hours) {
  const at = new Map(hours.map((h) => [`${h.weekday}-${h.hour}`, h]));
  const form = el("form", { id: "fc-plan" });
  const table = el("table", { className: "kpi-table forecast-grid", id: "fc-grid" },
    el("caption", { text: t("fc_grid", { week: forecast.week_start ? forecast.week_start.slice(0, 10) : "", zone: forecast.zone || "" }) }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("fc_hour") }),
      [0, 1, 2, 3, 4, 5, 6].map((d) => el("th", { scope: "col", text: t("weekday_" + d) })))),
    el("tbody", {}, Array.from({ length: 24 }, (_, hour) => el("tr", {}, el("th", { scope: "row", text: `${String(hour).padStart(2, "0")}:00` }),
      [0, 1, 2, 3, 4, 5, 6].map((d) => {
        const h = at.get(`${d}-${hour}`) || {};
        const need = typeof h.staff_needed === "number" ? h.staff_needed : 0;
        const sched = typeof h.scheduled === "number" ? h.scheduled : 0;
        const id = `fc-${d}-${hour}`;
        const td = el("td", { className: sched < need ? "short" : null },
          el("label", { for: id, className: "fc-need", text: t("fc_need", { n: need }) }),
          el("input", { id, type: "number", min: "0", max: "10000", step: "1", value: String(sched), "data-weekday": d, "data-hour": hour,
            "aria-label": t("fc_input", { day: t("weekday_" + d), hour, n: need }) }));
        return td;
      })))));
  form.append(el("div", { className: "heatmap-scroll" }, table),
    el("button", { type: "submit", id: "fc-save", text: t("fc_save") }),
    el("span", { className: "muted", role: "status", id: "fc-saved", text: saved }));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); savePlan(form); });
  return form;
}

function summary(f) {
  const p = f.parameters || {};
  const ht = (f.handle_time && f.handle_time.all) || {};
  const now = f.now || {};
  const handoffs = Object.values((f.history && f.history.handoffs) || {}).reduce((a, b) => a + b, 0);
  return el("div", {},
    el("p", { className: "muted", id: "fc-method" }, t("fc_method", {
      weeks: p.weeks, n: handoffs, target: fmtRatio(p.target), answer: fmtSeconds(p.answer_seconds),
      shrink: fmtRatio(p.shrinkage), occ: fmtRatio(p.max_occupancy), aht: fmtSeconds(ht.seconds),
    })),
    el("p", { id: "fc-now", className: now.online < now.staff_needed ? "warning" : "muted" }, t("fc_now", {
      need: typeof now.staff_needed === "number" ? now.staff_needed : t("none"),
      sched: typeof now.scheduled === "number" ? now.scheduled : t("none"),
      online: typeof now.online === "number" ? now.online : t("none"),
      arrivals: total(now.arrivals) === null ? t("none") : total(now.arrivals).toFixed(1),
    })));
}

function draw() {
  if (!box) return;
  clear(box);
  box.setAttribute("aria-busy", String(!forecast && !failure));
  box.append(el("h3", { id: "forecast-h", text: t("fc_title") }));
  if (failure) { box.append(el("p", { className: "warning", role: "alert", text: failure })); return; }
  if (!forecast) { box.append(el("p", { className: "muted", text: t("dash_loading") })); return; }
  box.append(summary(forecast), grid(forecast.hours || []));
}

// The next drawing loads the forecast again (the dashboard was opened anew).
export function forgetForecast() { forecast = null; failure = ""; saved = ""; }

// Draws the panel into `node` (the dashboard's forecast section), loading the forecast once.
export function renderForecast(node) {
  box = node;
  if (forecast || failure) { draw(); return; }
  draw();
  load().then(draw);
}

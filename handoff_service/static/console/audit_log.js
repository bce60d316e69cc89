// The supervisors' audit log (GET /api/audit): staff actions newest first, filtered by staff member, action
// (or a prefix such as "case."), outcome, target (a case number…) and dates (the browser's days), a page at
// a time (before_id), and the same filters as a CSV download (GET /api/audit/export; the server audits it).

import { api, errorText } from "./api.js";
import { $, clear, el } from "./dom.js";
import { getLang, label, t } from "./i18n.js";
import { handleAuth } from "./shell.js";
import { state, supervises } from "./state.js";

const PAGE = 100;
const audit = { entries: [], more: false, failure: "", seen: new Set(["case.", "auth.", "audit.", "outage."]) };

// a date input's day in this browser's zone, as Unix seconds (the end: the next day's start, exclusive)
function day(value, next) {
  if (!value) return null;
  const d = new Date(value + "T00:00:00");
  if (Number.isNaN(d.getTime())) return null;
  if (next) d.setDate(d.getDate() + 1);
  return String(Math.floor(d.getTime() / 1000));
}

function filters() {
  const q = new URLSearchParams();
  const put = (k, v) => { if (v) q.set(k, v); };
  put("actor", $("af-actor").value.trim());
  put("action", $("af-action").value.trim());
  put("outcome", $("af-outcome").value);
  put("target", $("af-target").value.trim());
  put("since", day($("af-since").value, false));
  put("until", day($("af-until").value, true));
  return q;
}

async function load(append) {
  if (!supervises(state.me)) return;
  const q = filters();
  q.set("limit", String(PAGE));
  if (append && audit.entries.length) q.set("before_id", String(audit.entries[audit.entries.length - 1].id));
  try {
    const page = (await api("GET", "/api/audit?" + q.toString())).entries;
    audit.entries = append ? audit.entries.concat(page) : page;
    audit.more = page.length === PAGE;
    audit.failure = "";
    page.forEach((e) => audit.seen.add(e.action));
  } catch (e) {
    if (e.status === 401) return handleAuth(e);
    audit.failure = errorText(e);
  }
  renderAudit();
}

export function enterAudit() { load(false); }

function when(iso) {
  return new Date(iso).toLocaleString(getLang() === "zh" ? "zh-CN" : "en-GB", {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

function details(d) {
  if (!d || !Object.keys(d).length) return "";
  try { return JSON.stringify(d); } catch { return ""; }
}

export function renderAudit() {
  const body = $("audit-list");
  clear(body);
  audit.entries.forEach((e) => body.append(el("tr", { "data-audit-id": e.id, className: "outcome-" + e.outcome },
    el("td", {}, el("time", { datetime: e.at, text: when(e.at) })),
    el("td", { text: e.actor || (e.details && e.details.username ? `${e.actor_kind}: ${e.details.username}` : e.actor_kind) }),
    el("td", { text: e.action }),
    el("td", { text: e.target_id ? (e.target_type ? `${e.target_type}: ${e.target_id}` : e.target_id) : t("none") }),
    el("td", { text: label("outcomes", e.outcome) }),
    el("td", { className: "details", text: details(e.details) }),
    el("td", { text: e.ip || t("none") }))));
  $("audit-empty").hidden = audit.entries.length > 0 || !!audit.failure;
  $("audit-more").hidden = !audit.more;
  $("audit-status").textContent = audit.failure ? t("audit_error", { msg: audit.failure }) : t("audit_count", { n: audit.entries.length });
  document.querySelectorAll("#af-outcome option").forEach((o) => { o.textContent = o.value ? label("outcomes", o.value) : t("audit_any"); });
  const list = $("audit-actions");
  clear(list);
  [...audit.seen].sort().forEach((a) => list.append(el("option", { value: a })));
}

function download() {
  const a = el("a", { href: "/api/audit/export?" + filters().toString(), download: "" });
  document.body.append(a);
  a.click();
  a.remove();
}

export function initAudit() {
  $("audit-filters").addEventListener("submit", (ev) => { ev.preventDefault(); load(false); });
  $("af-clear").addEventListener("click", () => { $("audit-filters").reset(); load(false); });
  $("af-export").addEventListener("click", download);
  $("audit-more").addEventListener("click", () => load(true));
}

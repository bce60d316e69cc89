// The trainers' review list: its vocabulary (GET /api/review/vocabulary), the filter bar, the
// list of items (GET /api/review/items) and which one is selected. The detail pane follows the
// selection through the handler given to onSelect() (review.js wires it; no import back).

import { api, errorText } from "./api.js";
import { $, clear, el, fmtTime } from "./dom.js";
import { label, t } from "./i18n.js";
import { handleAuth } from "./shell.js";

// what the review view knows; `zone` (the service's, for the date filters) comes with the KPIs
export const rs = { vocab: null, items: [], selected: null, zone: "Asia/Shanghai", busy: false, more: false };
const PAGE = 200;
let loadSeq = 0;
let selectHook = () => {};
export function onSelect(fn) { selectHook = fn; }

export const selectedItem = () => rs.items.find((i) => i.id === rs.selected) || null;

// May `action` be done on an item in `status`? The server's transitions say so (vocabulary).
export function allowed(action, status) {
  const a = rs.vocab && rs.vocab.actions && rs.vocab.actions[action];
  return !!a && Array.isArray(a.from) && a.from.includes(status);
}

export function reviewMessage(text, kind) {
  const p = $("review-message");
  p.textContent = text || "";
  p.className = "case-message" + (kind ? " " + kind : "");
}

export async function loadVocabulary() {
  try { rs.vocab = await api("GET", "/api/review/vocabulary"); } catch (e) { handleAuth(e); return; }
  renderFilterOptions();
}

function fillSelect(sel, first, values, group) {
  const prev = sel.value;
  clear(sel);
  sel.append(el("option", { value: "", text: first }));
  values.forEach((v) => sel.append(el("option", { value: v, text: group ? label(group, v) : t(v) })));
  sel.value = values.includes(prev) ? prev : "";
}

// The filter bar's choices in the current language (values kept).
export function renderFilterOptions() {
  const v = rs.vocab || { reasons: [], statuses: [] };
  fillSelect($("rf-reason"), t("f_any"), v.reasons, "review_reasons");
  fillSelect($("rf-status"), t("f_listed"), v.statuses, "review_statuses");
  fillSelect($("rf-language"), t("f_any"), ["zh", "en"], null);
  [...$("rf-language").options].forEach((o) => { if (o.value) o.textContent = t("lang_" + o.value); });
}

// The offset of `zone` from UTC (ms) at the instant utcMs.
function zoneOffset(zone, utcMs) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(utcMs));
  const v = Object.fromEntries(parts.map((p) => [p.type, p.value]));
  return Date.UTC(+v.year, +v.month - 1, +v.day, +v.hour, +v.minute, +v.second) - utcMs;
}

// Unix seconds at the start of the day `ymd` (YYYY-MM-DD) + addDays, in the service's zone.
export function dayStart(ymd, zone, addDays) {
  const [y, m, d] = ymd.split("-").map(Number);
  const wall = Date.UTC(y, m - 1, d + (addDays || 0));
  let ms = wall - zoneOffset(zone, wall);
  ms = wall - zoneOffset(zone, ms); // again, in case the offset changed in between (DST zones)
  return Math.floor(ms / 1000);
}

// The list's query string from the filter bar; throws Error(what) for a value out of range.
function query() {
  const q = new URLSearchParams();
  const text = (id, name) => { const v = $(id).value.trim(); if (v) q.set(name, v); };
  text("rf-reason", "reason"); text("rf-status", "status"); text("rf-intent", "intent");
  text("rf-language", "language"); text("rf-channel", "channel");
  for (const [id, name] of [["rf-min", "min_confidence"], ["rf-max", "max_confidence"]]) {
    const raw = $(id).value.trim();
    if (!raw) continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new Error(t(id === "rf-min" ? "f_conf_min" : "f_conf_max") + " " + raw);
    q.set(name, String(n));
  }
  const since = $("rf-since").value, until = $("rf-until").value;
  if (since) q.set("since", String(dayStart(since, rs.zone, 0)));
  if (until) q.set("until", String(dayStart(until, rs.zone, 1))); // the whole "to" day
  q.set("limit", String(PAGE));
  return q;
}

// The list again from the server with the filters as they are; keeps the selection when it is
// still listed, else selects the first item.
export async function loadReviewItems() {
  let qs;
  try { qs = query().toString(); } catch (e) {
    $("review-list-error").textContent = t("bad_filter", { what: e.message });
    $("review-list-error").hidden = false;
    return;
  }
  const seq = ++loadSeq;
  let out;
  try { out = await api("GET", "/api/review/items?" + qs); } catch (e) {
    if (seq !== loadSeq) return;
    if (e.status === 401) { handleAuth(e); return; }
    $("review-list-error").textContent = errorText(e);
    $("review-list-error").hidden = false;
    return;
  }
  if (seq !== loadSeq) return; // a newer filter's answer is on its way
  $("review-list-error").hidden = true;
  rs.items = out.items;
  rs.more = out.items.length === PAGE;
  if (!selectedItem()) rs.selected = rs.items.length ? rs.items[0].id : null;
  renderReviewList();
  selectHook(selectedItem());
}

// The next page of the same list, appended (the "more" button, or moving past the last row).
export async function loadMore() {
  if (!rs.more) return;
  let q;
  try { q = query(); } catch { return; }
  q.set("offset", String(rs.items.length));
  const seq = loadSeq;
  let out;
  try { out = await api("GET", "/api/review/items?" + q.toString()); } catch (e) {
    $("review-list-error").textContent = errorText(e);
    $("review-list-error").hidden = false;
    return;
  }
  if (seq !== loadSeq) return; // the filters changed meanwhile
  const known = new Set(rs.items.map((i) => i.id));
  const fresh = out.items.filter((i) => !known.has(i.id));
  rs.items.push(...fresh);
  rs.more = out.items.length === PAGE;
  const body = $("review-list");
  fresh.forEach((it) => body.append(row(it)));
  renderCount();
}

function renderCount() {
  $("review-empty").hidden = rs.items.length > 0;
  $("review-count").textContent = rs.items.length ? `(${t("review_count", { n: rs.items.length })})` : "";
  $("review-more").hidden = !rs.more;
}

function row(it) {
  const sel = it.id === rs.selected;
  const intents = (it.intents || []).map((x) => el("span", { className: "intent" },
    el("span", { className: "intent-name", text: x.name }), " ",
    el("span", { className: "conf", text: typeof x.confidence === "number" ? x.confidence.toFixed(2) : "?" })));
  return el("tr", { className: "review-row" + (sel ? " selected" : ""), "data-item-id": it.id,
    "aria-selected": sel ? "true" : "false", onclick: () => selectItem(it.id) },
  el("td", { className: "r-text" }, el("span", { text: it.text })),
  el("td", { className: "num", text: it.count }),
  el("td", {}, (it.reasons || []).map((r) => el("span", { className: "badge reason", text: label("review_reasons", r) }))),
  el("td", { className: "r-intents" }, intents.length ? intents : t("none")),
  el("td", { text: it.language || t("none") }),
  el("td", { text: it.channel || t("none") }),
  el("td", { className: "r-time", text: fmtTime(it.last_seen_at) }),
  el("td", { className: "r-status" },
    el("span", { className: "badge rstatus-" + it.status, text: label("review_statuses", it.status) }),
    it.label ? el("span", { className: "r-label", text: it.label }) : null));
}

export function renderReviewList() {
  const body = $("review-list");
  clear(body);
  rs.items.forEach((it) => body.append(row(it)));
  renderCount();
}

function markSelected() {
  document.querySelectorAll("#review-list .review-row").forEach((tr) => {
    const sel = Number(tr.dataset.itemId) === rs.selected;
    tr.classList.toggle("selected", sel);
    tr.setAttribute("aria-selected", sel ? "true" : "false");
    if (sel) tr.scrollIntoView({ block: "nearest" });
  });
}

// Selects the item with this id; keepMessage: the line saying how the last action went stays.
export function selectItem(id, keepMessage) {
  rs.selected = id;
  if (!keepMessage) reviewMessage("");
  markSelected();
  selectHook(selectedItem());
}

export async function moveSelection(delta) {
  if (!rs.items.length) return;
  let at = rs.items.findIndex((i) => i.id === rs.selected);
  if (delta > 0 && at === rs.items.length - 1 && rs.more) {
    await loadMore();
    at = rs.items.findIndex((i) => i.id === rs.selected);
  }
  const next = Math.min(rs.items.length - 1, Math.max(0, at < 0 ? 0 : at + delta));
  selectItem(rs.items[next].id);
}

// The item as the server returned it after an action, in place; then the next one is selected.
export function replaceAndMoveOn(item) {
  const at = rs.items.findIndex((i) => i.id === item.id);
  if (at < 0) return;
  rs.items[at] = item;
  const old = document.querySelector(`#review-list tr[data-item-id="${CSS.escape(String(item.id))}"]`);
  if (old) old.replaceWith(row(item));
  const next = () => selectItem(rs.items[Math.min(at + 1, rs.items.length - 1)].id, true);
  if (at === rs.items.length - 1 && rs.more) loadMore().then(next);
  else next();
}

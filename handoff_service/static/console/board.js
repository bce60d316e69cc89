// The supervisors' live board (GET /api/board): the queue by tier with waiting times (the queue's case
// cards), the agents online and their load, the deadlines near or past with their countdowns and a one-click
// acknowledgement (who acknowledged, when), and the outage notices in force. live.js calls boardSoon() on
// every event that can change it; the board is fetched again once the events pause, and only while shown.

import { api, errorText } from "./api.js";
import { $, clear, countdown, el, fmtTime } from "./dom.js";
import { getLang, label, t } from "./i18n.js";
import { card } from "./queue.js";
import { handleAuth } from "./shell.js";
import { state, supervises } from "./state.js";

let board = null, failure = "", loading = false, again = false, timer = null;
let openCaseHook = () => {};
// fn(caseId): open a case of the board in the case view
export function onOpenCaseFromBoard(fn) { openCaseHook = fn; }

const shown = () => !$("board-view").hidden;

export async function loadBoard() {
  if (!supervises(state.me)) return;
  if (loading) { again = true; return; }
  loading = true;
  try {
    board = await api("GET", "/api/board");
    failure = "";
  } catch (e) {
    if (e.status === 401) { loading = false; return handleAuth(e); }
    failure = errorText(e);
  } finally {
    loading = false;
  }
  renderBoard();
  if (again) { again = false; boardSoon(); }
}

// After a live event: the board again once events pause for a moment (debounced), if it is on screen.
export function boardSoon() {
  clearTimeout(timer);
  timer = setTimeout(() => { if (shown()) loadBoard(); }, 400);
}

export function enterBoard() { loadBoard(); }

// how long ago an ISO time was, as d h:mm:ss (waiting times tick every second, like the countdowns)
function since(iso) {
  const s = Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 1000));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  const hms = `${h}:${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  return d ? `${d}d ${hms}` : hms;
}

const waited = (iso) => el("span", { className: "wait", "data-since": iso, text: t("board_waited", { t: since(iso) }) });

function tickWaits() {
  if (!shown()) return;
  document.querySelectorAll("#board-view [data-since]").forEach((n) => { n.textContent = t("board_waited", { t: since(n.dataset.since) }); });
}

function table(id, caption, head, rows, empty) {
  return el("table", { className: "kpi-table board-table", id },
    el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows.length ? rows
      : el("tr", {}, el("td", { colspan: head.length, className: "empty", text: empty }))));
}

function renderQueue() {
  const box = $("board-queue");
  clear(box);
  const tiers = board.queue.tiers;
  box.append(table("board-queue-table", t("board_queue_caption"), [t("board_tier"), t("board_waiting"), t("board_oldest")],
    tiers.map((q) => el("tr", { "data-tier": q.tier },
      el("th", { scope: "row", text: label("tiers", q.tier) }),
      el("td", { text: String(q.count) }),
      el("td", {}, q.oldest_waiting_since ? waited(q.oldest_waiting_since) : t("board_no_wait")))), t("board_no_wait")));
  tiers.filter((q) => q.cases.length).forEach((q) => {
    box.append(el("h4", { text: `${label("tiers", q.tier)} (${q.count})` }),
      el("ol", { className: "cards", "data-tier": q.tier }, q.cases.map((c) => card(c, waited(c.waiting_since)))));
  });
}

function renderStaff() {
  const box = $("board-staff");
  clear(box);
  box.append(table("board-staff-table", t("board_staff_caption"),
    [t("board_name"), t("board_role"), t("team"), t("board_online"), t("board_handling"), t("board_owned")],
    board.staff.map((u) => el("tr", { "data-user": u.username, className: u.online ? "online" : "offline" },
      el("th", { scope: "row", text: u.display_name && u.display_name !== u.username ? `${u.display_name} (${u.username})` : u.username }),
      el("td", { text: label("roles", u.role) }),
      el("td", { text: u.team || t("none") }),
      el("td", { className: u.online ? "ok" : "muted", text: u.online ? t("board_is_online") : t("board_is_offline") }),
      el("td", { text: String(u.handling) }),
      el("td", { text: String(u.owned_open) }))), t("none")));
}

const who = (u) => (u ? u.display_name || u.username : t("none"));

async function acknowledge(d, button) {
  button.disabled = true;
  try {
    d.acknowledgement = await api("POST", `/api/cases/${d.case.id}/escalations/ack`, { deadline: d.deadline });
    ackMessage("");
  } catch (e) {
    ackMessage(errorText(e), "error");
    button.disabled = false;
    return;
  }
  renderDeadlines();
  const row = document.querySelector(`#board-deadlines tr[data-key="${d.case.id}:${d.deadline}"] .ack`);
  if (row) row.focus();
}

function ackMessage(text, kind) {
  const p = $("board-ack-message");
  p.textContent = text || "";
  p.className = "case-message" + (kind ? " " + kind : "");
}

function ackCell(d) {
  const a = d.acknowledgement;
  if (a) {
    return el("td", {}, el("span", { className: "ack", tabindex: "-1", text: t("board_ack_by", { who: who(a.by), at: fmtTime(a.at) }) }));
  }
  const button = el("button", { type: "button", className: "ack-btn",
    "aria-label": t("board_ack_label", { number: d.case.number, deadline: label("deadlines", d.deadline) }), text: t("board_ack") });
  button.addEventListener("click", () => acknowledge(d, button));
  return el("td", {}, button);
}

function renderDeadlines() {
  const box = $("board-deadlines");
  clear(box);
  box.append(table("board-deadlines-table", t("board_deadlines_caption"),
    [t("board_case"), t("board_tier"), t("board_deadline"), t("board_state"), t("board_due"), t("board_people"), t("board_ack_col")],
    board.deadlines.map((d) => el("tr", { "data-key": `${d.case.id}:${d.deadline}`, "data-case": d.case.number, className: "sla-" + d.state },
      el("th", { scope: "row" }, el("button", { type: "button", className: "link", text: d.case.number, onclick: () => openCaseHook(d.case.id) })),
      el("td", {}, el("span", { className: "badge tier tier-" + d.case.tier, text: label("tiers", d.case.tier) })),
      el("td", { text: label("deadlines", d.deadline) }),
      el("td", { className: "state", text: label("sla_states", d.state) }),
      el("td", {}, countdown(d.due)),
      el("td", { text: `${who(d.case.owner)} / ${d.case.handler ? who(d.case.handler) : d.case.handler_team || t("none")}` }),
      ackCell(d))), t("board_no_deadlines")));
}

const pick = (v) => (v ? v[getLang()] || v.zh || "" : "");

function renderOutages() {
  const list = $("board-outages");
  clear(list);
  if (!board.outages.length) { list.append(el("li", { className: "empty", text: t("board_no_outages") })); return; }
  board.outages.forEach((n) => list.append(el("li", { "data-outage-id": n.id },
    el("strong", { text: pick(n.title) }), " ",
    el("span", { className: "badge status-" + n.status, text: pick(n.status_label) }), " ",
    el("span", { className: "muted", text: `${t("eta")}: ${n.expected_recovery_at ? fmtTime(n.expected_recovery_at) : t("eta_unknown")}` }),
    n.latest ? el("p", { className: "text", text: pick(n.latest) }) : null)));
}

export function renderBoard() {
  if (!board) {
    $("board-status").textContent = failure ? t("board_error", { msg: failure }) : "";
    return;
  }
  $("board-status").textContent = failure ? t("board_error", { msg: failure }) : t("board_updated", { at: fmtTime(board.generated_at) });
  renderQueue();
  renderStaff();
  renderDeadlines();
  renderOutages();
}

export function initBoard() {
  setInterval(tickWaits, 1000);
  setInterval(() => { if (shown()) loadBoard(); }, 30000); // waiting times and load, also without events
}

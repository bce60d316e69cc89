// The open case: loading it, and the case view (header, meta, summary card, notes,
// transfer targets, timeline). Which controls are enabled follows can() (state.js).

import { api } from "./api.js";
import { $, clear, countdown, el, fmtTime } from "./dom.js";
import { label, t } from "./i18n.js";
import { renderPhrases } from "./compose.js";
import { renderMine, renderQueue } from "./queue.js";
import { caseMessage, handleAuth } from "./shell.js";
import { can, state } from "./state.js";
import { renderTranscript } from "./transcript.js";
import { renderFollowUp, renderVisits } from "./visits.js";

export async function loadStaff() {
  try { state.staff = (await api("GET", "/api/staff")).staff; } catch { state.staff = []; }
}

export async function loadPhrasing() {
  try { state.phrasing = await api("GET", "/api/phrasing"); } catch { state.phrasing = null; }
}

export async function openCase(id) {
  caseMessage("");
  $("reply-text").value = "";
  $("taboo-warning").hidden = true;
  try {
    const [c, tr, tl] = await Promise.all([
      api("GET", `/api/cases/${id}`),
      api("GET", `/api/cases/${id}/transcript`),
      api("GET", `/api/cases/${id}/timeline`),
    ]);
    state.current = c; state.transcript = tr; state.timeline = tl.events;
  } catch (e) { return handleAuth(e); }
  renderCase();
  renderQueue();
  renderMine();
  renderVisits();
  $("case-h").focus();
}

export async function reloadCase() {
  if (!state.current) return;
  const id = state.current.id;
  try {
    const [c, tl] = await Promise.all([api("GET", `/api/cases/${id}`), api("GET", `/api/cases/${id}/timeline`)]);
    if (!state.current || state.current.id !== id) return;
    // a message about the previous status (e.g. "resolved" before a follow-up reopened it) is stale
    if (c.status !== state.current.status) caseMessage("");
    state.current = c; state.timeline = tl.events;
  } catch (e) {
    if (!lostSight(e, id)) return handleAuth(e);
  }
  renderCase(true);
}

// The case left this agent's sight (e.g. another agent accepted it first): what is
// on screen stays, read-only.
function lostSight(e, id) {
  if (e.code !== "not_case_reader" || !state.current || state.current.id !== id) return false;
  state.current = { ...state.current, my_actions: [] };
  return true;
}

export async function reloadTranscript() {
  if (!state.current) return;
  const id = state.current.id;
  let tr;
  try { tr = await api("GET", `/api/cases/${id}/transcript`); } catch (e) {
    if (!lostSight(e, id)) handleAuth(e);
    return;
  }
  if (!state.current || state.current.id !== id) return;
  state.transcript = tr;
  renderTranscript();
}

// The whole case view; keepInputs keeps the transfer choices made so far.
export function renderCase(keepInputs) {
  const c = state.current;
  $("case-view").hidden = !c;
  $("case-placeholder").hidden = !!c;
  if (!c) return;
  $("case-number").textContent = c.number;
  $("case-status").textContent = label("statuses", c.status);
  $("case-status").className = "badge status-" + c.status;
  $("case-tier").textContent = label("tiers", c.tier);
  $("case-tier").className = "badge tier tier-" + c.tier;

  const meta = $("case-meta");
  clear(meta);
  const row = (k, v) => meta.append(el("div", {}, el("dt", { text: t(k) }), el("dd", {}, v)));
  row("owner", c.owner ? `${c.owner.display_name} (${c.owner.username})` : t("none"));
  row("handler", c.handler ? `${c.handler.display_name} (${c.handler.username})` : (c.handler_team ? `${t("team")} ${c.handler_team}` : t("none")));
  row("category", c.category);
  row("language", c.language);
  row("channel", c.channel);
  row("created", fmtTime(c.created_at));
  row("first_response", countdown(c.sla.first_response.state === "met" ? null : c.sla.first_response.due, c.sla.first_response.state));
  row("result_due", countdown(c.sla.result.state === "met" ? null : c.sla.result.due, c.sla.result.state));

  $("accept-btn").hidden = !can(c, "accept");
  $("claim-btn").hidden = !can(c, "claim");

  renderSummary(c);
  renderTranscript();
  renderPhrases(c);
  const reply = can(c, "reply");
  $("reply-text").disabled = !reply;
  $("reply-send").disabled = !reply;
  $("reply-hint").textContent = reply ? t("reply_ready") : t("reply_only_handler");
  $("note-text").disabled = !can(c, "note");
  $("note-form").querySelector("button").disabled = !can(c, "note");
  renderTransferTargets(c, can(c, "transfer"), keepInputs);
  $("resolve-result").disabled = !can(c, "resolve");
  $("resolve-btn").disabled = !can(c, "resolve");
  renderFollowUp();
  renderNotes();
  renderTimeline();
}

function renderSummary(c) {
  const dl = $("summary");
  clear(dl);
  const s = c.summary || {};
  const add = (k, v) => dl.append(el("div", {}, el("dt", { text: t(k) }), el("dd", {}, v)));
  add("problem", s.problem || c.description || t("none"));
  const collected = s.collected && typeof s.collected === "object" ? Object.entries(s.collected) : [];
  add("collected", collected.length
    ? el("ul", { className: "kv" }, collected.map(([k, v]) => el("li", {}, el("span", { className: "k", text: k + ": " }), typeof v === "object" ? JSON.stringify(v) : String(v))))
    : t("none"));
  const steps = Array.isArray(s.steps_tried) ? s.steps_tried : [];
  add("steps_tried", steps.length ? el("ol", { className: "steps" }, steps.map((x) => el("li", { text: x }))) : t("none"));
  add("emotion", s.emotion || t("none"));
  add("severity", s.severity || t("none"));
  add("language", c.language);
  if (s.reason) add("reason", s.reason);
  if (c.description && s.problem && c.description !== s.problem) add("description", c.description);
}

function renderTransferTargets(c, enabled, keep) {
  const agentSel = $("transfer-agent"), teamSel = $("transfer-team");
  const prevAgent = keep ? agentSel.value : "", prevTeam = keep ? teamSel.value : "";
  clear(agentSel); clear(teamSel);
  agentSel.append(el("option", { value: "", text: t("no_agent") }));
  teamSel.append(el("option", { value: "", text: t("no_team") }));
  const teams = new Set();
  for (const s of state.staff) {
    if (s.role !== "agent" && s.role !== "supervisor") continue;
    if (s.team) teams.add(s.team);
    if (c.handler && s.id === c.handler.id) continue;
    agentSel.append(el("option", { value: s.username, text: `${s.display_name} (${s.username})${s.team ? " · " + s.team : ""}` }));
  }
  [...teams].sort().forEach((tm) => teamSel.append(el("option", { value: tm, text: tm })));
  agentSel.value = prevAgent; teamSel.value = prevTeam;
  for (const n of [agentSel, teamSel, $("transfer-note"), $("transfer-btn")]) n.disabled = !enabled;
}

function renderNotes() {
  const list = $("notes-list");
  clear(list);
  state.timeline.filter((e) => e.action === "note").forEach((e) => list.append(
    el("li", {}, el("span", { className: "who", text: e.actor_id || "" }), el("time", { text: fmtTime(e.at) }),
      el("p", { className: "text", text: (e.details && e.details.text) || "" }))));
}

function renderTimeline() {
  const list = $("timeline");
  clear(list);
  state.timeline.forEach((e) => {
    const status = e.status_from && e.status_from !== e.status_to
      ? `${label("statuses", e.status_from)} → ${label("statuses", e.status_to)}` : "";
    list.append(el("li", {},
      el("time", { text: fmtTime(e.at) }), " ",
      el("strong", { text: label("actions", e.action) }), " ",
      el("span", { className: "who", text: `${e.actor_kind}:${e.actor_id || ""}` }), " ",
      e.details && e.details.deadline ? el("span", { className: "deadline", text: `${label("deadlines", e.details.deadline)} ` }) : null,
      status ? el("span", { text: status }) : null,
      e.owner ? el("span", { className: "muted", text: ` ${t("owner")}: ${e.owner.username}` }) : null));
  });
}

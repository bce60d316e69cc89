// Follow-up visits (回访): the "visits to make" list on the left (my cases' visits still open,
// or everyone's for a supervisor, soonest due first, with the follow-up deadline's countdown) and, on an open resolved case, the
// panel where the agent records a phone call's answer. A card opens its case through the handler
// given to onOpenVisitCase() (main.js wires it to case.js).

import { api, errorText } from "./api.js";
import { $, clear, countdown, el } from "./dom.js";
import { label, t } from "./i18n.js";
import { caseMessage, handleAuth } from "./shell.js";
import { can, state } from "./state.js";

let openCase = () => {};
let afterAnswer = async () => {};
export function onOpenVisitCase(fn) { openCase = fn; }
export function onVisitAnswered(fn) { afterAnswer = fn; }

// An agent's own cases' visits; a supervisor sees everyone's (to chase the overdue ones).
export async function loadVisits() {
  const scope = state.me && state.me.role === "supervisor" ? "all" : "mine";
  try { state.visits = (await api("GET", `/api/follow-ups?scope=${scope}&limit=200`)).visits; } catch (e) { return handleAuth(e); }
  renderVisits();
  renderFollowUp();
}

export function renderVisits() {
  const list = $("visits-list");
  clear(list);
  state.visits.forEach((v) => {
    const current = state.current && state.current.id === v.case.id;
    list.append(el("li", { className: "card-item" },
      el("button", { type: "button", className: "card" + (current ? " current" : ""), "data-visit-id": v.id,
        "aria-current": current ? "true" : null, onclick: () => openCase(v.case.id) },
        el("span", { className: "card-top" },
          el("span", { className: "number", text: v.case.number }),
          el("span", { className: "badge visit-" + v.state, text: label("visit_states", v.state) })),
        el("span", { className: "card-problem", text: t(v.state === "to_call" ? "visit_call_hint" : "visit_chat_hint",
          { when: new Date(v.due_at).toLocaleString() }) }),
        el("span", { className: "card-bottom" },
          el("span", { className: "lang-tag", text: (v.case.language || "").toUpperCase() }),
          countdown(v.case.follow_up_due, v.case.sla_follow_up)))));
  });
  $("visits-empty").hidden = state.visits.length > 0;
  $("visits-count").textContent = state.visits.length ? `(${state.visits.length})` : "";
}

// The open case's visit still to be made, if any.
const openVisit = (c) => state.visits.find((v) => v.case.id === c.id) || null;

// The phone-call panel: shown on a resolved case this agent may record the follow-up of.
export function renderFollowUp() {
  const c = state.current;
  const show = !!c && c.status === "resolved" && can(c, "follow_up");
  $("follow-up-panel").hidden = !show;
  if (!show) return;
  const v = openVisit(c);
  $("follow-up-state").textContent = v
    ? t("visit_state_line", { state: label("visit_states", v.state), attempts: v.attempts })
    : t("visit_none_open");
  $("follow-up-no-answer").hidden = !v || !(v.state === "sent" || v.state === "to_call");
}

async function answer(solved) {
  const c = state.current;
  const comment = $("follow-up-comment").value.trim();
  const body = comment ? { solved, comment } : { solved };
  caseMessage("");
  try {
    await api("POST", `/api/cases/${c.id}/follow-up`, body);
  } catch (e) { caseMessage(errorText(e), "error"); if (e.status === 401) handleAuth(e); return; }
  $("follow-up-comment").value = "";
  await afterAnswer();
  await loadVisits();
  caseMessage(t(solved ? "visit_solved_ok" : "visit_reopened_ok"), "ok");
}

async function noAnswer() {
  const v = state.current && openVisit(state.current);
  if (!v) return;
  const comment = $("follow-up-comment").value.trim();
  caseMessage("");
  try {
    await api("POST", `/api/follow-ups/${v.id}/no-answer`, comment ? { comment } : {});
  } catch (e) { caseMessage(errorText(e), "error"); if (e.status === 401) handleAuth(e); return; }
  $("follow-up-comment").value = "";
  await afterAnswer();
  await loadVisits();
  caseMessage(t("visit_no_answer_ok"), "ok");
}

export function initVisits() {
  $("follow-up-solved").addEventListener("click", () => answer(true));
  $("follow-up-not-solved").addEventListener("click", () => answer(false));
  $("follow-up-no-answer").addEventListener("click", noAnswer);
}

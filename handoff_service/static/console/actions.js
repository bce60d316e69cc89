// What the agent does on the open case: accept, claim, reply, note, transfer, resolve.
// Each one calls the API, says how it went in the case message line, and reloads
// what it changed.

import { api, errorText } from "./api.js";
import { $ } from "./dom.js";
import { t } from "./i18n.js";
import { reloadCase } from "./case.js";
import { loadMine, reloadLists } from "./queue.js";
import { caseMessage, showLogin } from "./shell.js";
import { can, state } from "./state.js";
import { addMessage } from "./transcript.js";

// Runs fn (an API call); shows okText (or okText(result)) on success, the error otherwise,
// reloading the case when it changed under us. Returns the result, or null after an error.
async function act(fn, okText) {
  caseMessage("");
  try {
    const out = await fn();
    if (okText) caseMessage(typeof okText === "function" ? okText(out) : okText, "ok");
    return out;
  } catch (e) {
    caseMessage(errorText(e), "error");
    if (e.code === "case_already_taken" && e.details.case && state.current && state.current.id === e.details.case.id) {
      // another agent owns it now; this agent may no longer read it, so show what the answer says
      state.current = { ...state.current, ...e.details.case, my_actions: [] };
    }
    if (e.code === "concurrent_change" || e.code === "case_already_taken" || e.code === "invalid_transition") {
      await reloadCase(); reloadLists();
      caseMessage(errorText(e), "error");
    }
    if (e.status === 401) showLogin();
    return null;
  }
}

async function take(verb, okKey) {
  const c = state.current;
  const out = await act(() => api("POST", `/api/cases/${c.id}/${verb}`), t(okKey));
  if (out) { state.current = out; await reloadCase(); reloadLists(); caseMessage(t(okKey), "ok"); }
}

async function reply(ev) {
  ev.preventDefault();
  const c = state.current;
  const text = $("reply-text").value;
  if (!text.trim()) { caseMessage(t("empty_text"), "error"); return; }
  $("reply-send").disabled = true;
  const m = await act(() => api("POST", `/api/cases/${c.id}/messages`, { text }));
  $("reply-send").disabled = !can(state.current, "reply");
  if (m) { addMessage(m); $("reply-text").value = ""; $("taboo-warning").hidden = true; $("reply-text").focus(); }
}

async function addNote(ev) {
  ev.preventDefault();
  const c = state.current;
  const text = $("note-text").value;
  if (!text.trim()) { caseMessage(t("empty_text"), "error"); return; }
  const note = await act(() => api("POST", `/api/cases/${c.id}/notes`, { text }), t("note_added"));
  if (note) { $("note-text").value = ""; await reloadCase(); caseMessage(t("note_added"), "ok"); }
}

async function transfer(ev) {
  ev.preventDefault();
  const c = state.current;
  const agent = $("transfer-agent").value, team = $("transfer-team").value;
  if (!agent && !team) { caseMessage(t("pick_target"), "error"); return; }
  const body = agent ? { to_agent: agent } : { to_team: team };
  const note = $("transfer-note").value.trim();
  if (note) body.note = note;
  const out = await act(() => api("POST", `/api/cases/${c.id}/transfer`, body),
    (r) => t("transferred_ok", { owner: r.owner ? r.owner.username : t("none") }));
  if (out) {
    $("transfer-note").value = ""; $("transfer-agent").value = ""; $("transfer-team").value = "";
    const msg = $("case-message").textContent;
    await reloadCase(); reloadLists();
    caseMessage(msg, "ok");
  }
}

async function resolve(ev) {
  ev.preventDefault();
  const c = state.current;
  const result = $("resolve-result").value;
  if (!result.trim()) { caseMessage(t("need_result"), "error"); return; }
  const out = await act(() => api("POST", `/api/cases/${c.id}/resolve`, { result }), t("resolved_ok"));
  if (out) { $("resolve-result").value = ""; await reloadCase(); loadMine(); caseMessage(t("resolved_ok"), "ok"); }
}

export function initActions() {
  $("accept-btn").addEventListener("click", () => take("accept", "accepted"));
  $("claim-btn").addEventListener("click", () => take("claim", "claimed"));
  $("reply-form").addEventListener("submit", reply);
  $("note-form").addEventListener("submit", addNote);
  $("transfer-form").addEventListener("submit", transfer);
  $("resolve-form").addEventListener("submit", resolve);
}

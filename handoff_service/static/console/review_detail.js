// The selected review item: what it is, its conversation (± 5 turns, GET .../context) with links
// to its cases, an agent's suggested label, the label picker and the comment; and the trainer's
// actions on it (label, accept, ignore, flag, reopen), each followed by the next item.

import { api, errorText } from "./api.js";
import { $, clear, el, fmtTime } from "./dom.js";
import { label, t } from "./i18n.js";
import { intentProblem, intentsWarning } from "./intents.js";
import { allowed, loadReviewItems, replaceAndMoveOn, reviewMessage, rs, selectedItem } from "./review_list.js";
import { showLogin } from "./shell.js";

let contextSeq = 0;
let openCase = () => {};
let afterAction = () => {};
// What a case link does (main.js: the case view), and what follows each action (the KPIs).
export function onOpenCaseFromReview(fn) { openCase = fn; }
export function onReviewAction(fn) { afterAction = fn; }

const ACTIONS = { label: "ra-label", accept: "ra-accept", ignore: "ra-ignore", flag: "ra-flag", reopen: "ra-reopen" };

// The best predicted intent that names something a trainer can label with (not the fallback).
function predicted(it) {
  const x = (it.intents || []).find((i) => i.name && i.name !== "nlu_fallback");
  return x ? x.name : (it.top_intent && it.top_intent !== "nlu_fallback" ? it.top_intent : null);
}

export function renderDetail() {
  const it = selectedItem();
  $("review-placeholder").hidden = !!it;
  $("review-item").hidden = !it;
  if (!it) { contextSeq++; return; }
  $("review-text").textContent = it.text;
  const meta = $("review-meta");
  clear(meta);
  const add = (k, v) => meta.append(el("div", {}, el("dt", { text: t(k) }), el("dd", {}, v)));
  add("col_status", [label("review_statuses", it.status), it.label ? ` · ${it.label}` : ""].join(""));
  add("count", String(it.count));
  add("col_reasons", (it.reasons || []).map((r) => label("review_reasons", r)).join(", ") || t("none"));
  add("col_intents", (it.intents || []).map((x) => `${x.name} ${Number(x.confidence).toFixed(2)}`).join(", ") || t("none"));
  add("language", [it.language, it.script].filter(Boolean).join(" · ") || t("none"));
  add("channel", it.channel || t("none"));
  add("first_seen", fmtTime(it.first_seen_at));
  add("last_seen", fmtTime(it.last_seen_at));
  if (it.comment) add("comment_label", it.comment);

  $("review-suggested").hidden = !it.suggested_label;
  $("review-suggested").textContent = it.suggested_label ? t("suggested", { label: it.suggested_label }) : "";
  $("review-label").value = it.label || "";
  $("review-comment").value = it.comment || "";
  const warning = intentsWarning();
  $("review-intents-warning").hidden = !warning;
  $("review-intents-warning").textContent = warning;
  $(ACTIONS.label).disabled = !allowed("label", it.status);
  $(ACTIONS.accept).disabled = !allowed("label", it.status) || !(it.suggested_label || predicted(it));
  for (const a of ["ignore", "flag", "reopen"]) $(ACTIONS[a]).disabled = !allowed(a, it.status);
  loadContext(it.id);
}

function contextNote(text, kind) {
  const p = $("review-context-note");
  p.textContent = text || "";
  p.className = kind === "warning" ? "warning" : "muted";
  p.hidden = !text;
}

async function loadContext(id) {
  const seq = ++contextSeq;
  clear($("review-context"));
  clear($("review-cases"));
  $("review-conversation").textContent = "";
  contextNote(t("context_loading"));
  let out;
  try { out = await api("GET", `/api/review/items/${id}/context`); } catch (e) {
    if (seq === contextSeq) contextNote(t("context_error", { msg: errorText(e) }), "warning");
    return;
  }
  if (seq !== contextSeq) return; // another item was selected meanwhile
  const turns = Array.isArray(out.turns) ? out.turns : [];
  if (!out.available) contextNote(t("context_unavailable", { msg: out.error || t("none") }), "warning");
  else contextNote(turns.length ? "" : t("context_empty"));
  $("review-conversation").textContent = out.conversation_id ? `${out.conversation_id} · ${fmtTime(out.at)}` : "";
  const list = $("review-context");
  turns.forEach((turn) => {
    const kind = turn.kind === "bot" || turn.kind === "agent" ? turn.kind : "customer";
    list.append(el("li", { className: "msg " + kind + (turn.current ? " current" : ""), "aria-current": turn.current ? "true" : null },
      el("span", { className: "who", text: t(kind) }),
      el("time", { text: fmtTime(turn.at) }),
      el("p", { className: "text", text: turn.text })));
  });
  const cur = list.querySelector(".current");
  if (cur) cur.scrollIntoView({ block: "nearest" });
  const cases = Array.isArray(out.cases) ? out.cases : [];
  if (cases.length) {
    $("review-cases").append(t("context_cases"), " ", ...cases.map((c) => el("button", {
      type: "button", className: "link case-link", "data-case-id": c.id, text: t("open_case", { number: c.number }),
      onclick: () => openCase(c.id) })));
  }
}

async function act(action, body, okText) {
  const it = selectedItem();
  if (!it || rs.busy) return;
  if (!allowed(action, it.status)) {
    reviewMessage(t("not_allowed_now", { status: label("review_statuses", it.status) }), "error");
    return;
  }
  reviewMessage("");
  rs.busy = true;
  try {
    const out = await api("POST", `/api/review/items/${it.id}/${action}`, body);
    replaceAndMoveOn(out);
    reviewMessage(okText(out), "ok");
    $("review-table").focus();
    afterAction();
  } catch (e) {
    reviewMessage(errorText(e), "error");
    if (e.status === 401) showLogin();
    if (e.code === "review_state_conflict") { await loadReviewItems(); reviewMessage(errorText(e), "error"); }
  } finally {
    rs.busy = false;
  }
}

function labelWith(name) {
  const problem = intentProblem(name);
  if (problem) { reviewMessage(problem, "error"); return false; }
  const comment = $("review-comment").value.trim();
  act("label", comment ? { label: name, comment } : { label: name }, (out) => t("done_label", { label: out.label }));
  return true;
}

export function labelFromPicker() {
  if (!labelWith($("review-label").value.trim())) $("review-label").focus();
}

export function acceptSuggestion() {
  const it = selectedItem();
  if (!it) return;
  const name = it.suggested_label || predicted(it);
  if (!name) { reviewMessage(t("nothing_to_accept"), "error"); return; }
  labelWith(name);
}

export const ignore = () => act("ignore", undefined, () => t("done_ignore"));
export const reopen = () => act("reopen", undefined, () => t("done_reopen"));

export function flag() {
  const comment = $("review-comment").value.trim();
  if (!comment) { reviewMessage(t("need_comment"), "error"); $("review-comment").focus(); return; }
  act("flag", { comment }, () => t("done_flag"));
}

export function focusLabel() {
  if (!selectedItem()) return;
  $("review-label").focus();
  $("review-label").select();
}

export function focusComment() {
  if (!selectedItem()) return;
  $("review-comment").focus();
  $("review-comment").select();
}

export function initDetail() {
  $("review-form").addEventListener("submit", (ev) => { ev.preventDefault(); labelFromPicker(); });
  $("review-comment").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.isComposing) { ev.preventDefault(); flag(); }
  });
  $(ACTIONS.accept).addEventListener("click", acceptSuggestion);
  $(ACTIONS.ignore).addEventListener("click", ignore);
  $(ACTIONS.flag).addEventListener("click", flag);
  $(ACTIONS.reopen).addEventListener("click", reopen);
}

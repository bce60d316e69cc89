// The review view's keys (a trainer labels hundreds a day): j/k or ↓/↑ move, l label, a accept,
// i ignore, f flag, u reopen, ? help, Esc leaves a text box or the help. Never while typing.

import { $, clear, el } from "./dom.js";
import { t } from "./i18n.js";
import { acceptSuggestion, focusComment, focusLabel, ignore, reopen } from "./review_detail.js";
import { moveSelection } from "./review_list.js";

const typing = (n) => !!n && (n.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(n.tagName));

export function renderHelp() {
  const dl = $("review-help-keys");
  clear(dl);
  const keys = t("help_keys");
  (Array.isArray(keys) ? keys : []).forEach(([k, what]) => dl.append(el("div", {}, el("dt", {}, el("kbd", { text: k })), el("dd", { text: what }))));
}

export function toggleHelp(show) {
  const help = $("review-help");
  help.hidden = show === undefined ? !help.hidden : !show;
  if (!help.hidden) $("review-help-close").focus();
  else $("review-table").focus();
}

function onKey(ev) {
  if ($("review-view").hidden || ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing) return;
  if (ev.key === "Escape") {
    if (!$("review-help").hidden) { toggleHelp(false); ev.preventDefault(); return; }
    if (typing(ev.target)) { ev.target.blur(); $("review-table").focus(); ev.preventDefault(); }
    return;
  }
  if (typing(ev.target)) return;
  const keys = {
    j: () => moveSelection(1), ArrowDown: () => moveSelection(1),
    k: () => moveSelection(-1), ArrowUp: () => moveSelection(-1),
    l: focusLabel, a: acceptSuggestion, i: ignore, f: focusComment, u: reopen, "?": () => toggleHelp(),
  };
  const fn = keys[ev.key];
  if (!fn || (!$("review-help").hidden && ev.key !== "?")) return;
  ev.preventDefault();
  fn();
}

export function initKeys() {
  document.addEventListener("keydown", onKey);
  $("review-help-close").addEventListener("click", () => toggleHelp(false));
}

// The reply box: one-click standard phrases in the customer's language, Ctrl+Enter,
// and the live taboo-phrase warning while typing. (Sending is in actions.js.)

import { api } from "./api.js";
import { $, clear, el } from "./dom.js";
import { getLang, t } from "./i18n.js";
import { can, state } from "./state.js";

export function renderPhrases(c) {
  const box = $("phrases");
  clear(box);
  if (!state.phrasing) return;
  const want = (c.language || "").startsWith("en") ? "en" : "zh";
  for (const g of state.phrasing.standard) {
    for (const p of g.phrases[want] || []) {
      box.append(el("button", { type: "button", className: "phrase", text: p, title: g.group, disabled: !can(c, "reply"),
        onclick: () => insertPhrase(p) }));
    }
  }
}

function insertPhrase(p) {
  const ta = $("reply-text");
  const start = ta.selectionStart ?? ta.value.length, end = ta.selectionEnd ?? ta.value.length;
  ta.value = ta.value.slice(0, start) + p + ta.value.slice(end);
  ta.focus();
  ta.setSelectionRange(start + p.length, start + p.length);
  scheduleTabooCheck();
}

let tabooTimer = null, tabooSeq = 0;
function scheduleTabooCheck() {
  clearTimeout(tabooTimer);
  tabooTimer = setTimeout(checkTaboo, 250);
}

async function checkTaboo() {
  const text = $("reply-text").value;
  const seq = ++tabooSeq;
  if (!text.trim()) { $("taboo-warning").hidden = true; return; }
  let out;
  try { out = await api("POST", "/api/phrasing/check", { text }); } catch { return; }
  if (seq !== tabooSeq) return; // a newer check is on its way
  const warn = $("taboo-warning");
  if (out.taboos.length) {
    const list = [...new Set(out.taboos.map((x) => x.phrase))].map((p) => `「${p}」`).join(getLang() === "zh" ? "、" : ", ");
    warn.textContent = t("taboo_warning", { list });
    warn.hidden = false;
  } else {
    warn.hidden = true;
    warn.textContent = "";
  }
}

export function initCompose() {
  $("reply-text").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); $("reply-form").requestSubmit(); }
  });
  $("reply-text").addEventListener("input", scheduleTabooCheck);
}

// "The customer meant…" on a customer message of the open case's transcript: an agent names the
// intent (from the same list as the trainers' label picker) and the message goes to the trainers'
// review list (POST /api/cases/{id}/corrections) with that suggestion.

import { api, errorText } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { intentProblem, intentsWarning } from "./intents.js";
import { state } from "./state.js";

function say(node, text, kind) {
  node.textContent = text;
  node.className = "meant-status" + (kind ? " " + kind : "");
}

const keyOf = (item) => `${item.at || ""}|${item.text}`;

// The status line of this item's control as the page has it now: the transcript may have been
// drawn again (a live update) while the correction was on its way.
function liveStatus(item, fallback) {
  const m = [...document.querySelectorAll("#transcript .meant")].find((x) => x.dataset.key === keyOf(item));
  return (m && m.querySelector(".meant-status")) || fallback;
}

async function send(ev, item, input, button, status) {
  ev.preventDefault();
  const c = state.current;
  if (!c) return;
  const intent = input.value.trim();
  const problem = intentProblem(intent);
  if (problem) { say(status, problem, "error"); input.focus(); return; }
  button.disabled = true;
  say(status, "");
  try {
    await api("POST", `/api/cases/${c.id}/corrections`, { text: item.text, at: item.at || null, intent });
    say(liveStatus(item, status), t("meant_sent"), "ok");
  } catch (e) {
    say(liveStatus(item, status), errorText(e), "error");
  } finally {
    button.disabled = false;
  }
}

function show(toggle, form, warning, open) {
  form.hidden = !open;
  toggle.setAttribute("aria-expanded", String(open));
  const w = intentsWarning();
  warning.textContent = w;
  warning.hidden = !w;
}

// The control under one transcript item (null for what the customer did not write).
export function correctionControl(item) {
  if (item.kind !== "customer" || !item.text) return null;
  const input = el("input", { className: "meant-intent", list: "intent-options", maxlength: "128", autocomplete: "off",
    "aria-label": t("meant_label"), placeholder: t("meant_label") });
  const button = el("button", { type: "submit", className: "secondary", text: t("meant_send") });
  const warning = el("p", { className: "warning meant-warning", hidden: true });
  const status = el("span", { className: "meant-status", role: "status" });
  const form = el("form", { className: "meant-form", hidden: true }, input, button, status, warning);
  form.addEventListener("submit", (ev) => send(ev, item, input, button, status));
  const toggle = el("button", { type: "button", className: "link meant-toggle", text: t("meant_btn"), "aria-expanded": "false" });
  toggle.addEventListener("click", () => {
    show(toggle, form, warning, form.hidden);
    if (!form.hidden) input.focus();
  });
  return el("div", { className: "meant", "data-key": keyOf(item) }, toggle, form);
}

// The controls an agent has open under `list` (before the transcript is drawn again, e.g. after a
// live update), and putting them back afterwards, so a half-typed correction is not lost.
export function openCorrections(list) {
  return [...list.querySelectorAll(".meant")].filter((m) => !m.querySelector(".meant-form").hidden).map((m) => ({
    key: m.dataset.key,
    value: m.querySelector(".meant-intent").value,
    status: m.querySelector(".meant-status").textContent,
    statusClass: m.querySelector(".meant-status").className,
    focused: m.querySelector(".meant-intent") === document.activeElement,
  }));
}

export function reopenCorrections(list, open) {
  for (const o of open) {
    const m = [...list.querySelectorAll(".meant")].find((x) => x.dataset.key === o.key);
    if (!m) continue;
    show(m.querySelector(".meant-toggle"), m.querySelector(".meant-form"), m.querySelector(".meant-warning"), true);
    m.querySelector(".meant-intent").value = o.value;
    m.querySelector(".meant-status").textContent = o.status;
    m.querySelector(".meant-status").className = o.statusClass;
    if (o.focused) m.querySelector(".meant-intent").focus();
  }
}

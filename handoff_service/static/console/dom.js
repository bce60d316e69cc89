// DOM helpers. Text only: every piece of data goes in with textContent (or as a
// text node); markup is never parsed from strings.

import { getLang, t } from "./i18n.js";

export const $ = (id) => document.getElementById(id);

// el("li", {className, text, onclick, "data-x": ...}, ...children): an element; children
// that are not nodes become text nodes; null, undefined and false props and children are skipped.
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "className") node.className = v;
    else if (k === "text") node.textContent = String(v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function clear(node) { node.replaceChildren(); }

export function fmtTime(iso) {
  if (!iso) return t("none");
  const d = new Date(iso);
  return d.toLocaleString(getLang() === "zh" ? "zh-CN" : "en-GB", { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

function fmtSpan(ms) {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const hms = `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`;
  return d ? `${d}d ${hms}` : hms;
}

// An SLA countdown to the ISO time due ("met" when state is "met"); ticked every second by startClock().
export function countdown(due, state) {
  const node = el("span", { className: "countdown" });
  if (state === "met") { node.textContent = t("met"); node.classList.add("ok"); return node; }
  if (!due) { node.textContent = t("none"); return node; }
  node.dataset.due = due;
  tickOne(node);
  return node;
}

function tickOne(node) {
  const left = new Date(node.dataset.due).getTime() - Date.now();
  node.textContent = left >= 0 ? t("left", { t: fmtSpan(left) }) : t("overdue", { t: fmtSpan(left) });
  node.classList.toggle("overdue", left < 0);
  node.classList.toggle("soon", left >= 0 && left < 3600 * 1000);
}

export function startClock() {
  setInterval(() => document.querySelectorAll("[data-due]").forEach(tickOne), 1000);
}

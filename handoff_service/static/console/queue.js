// The two case lists on the left: the queue (waiting for an agent) and "my cases"
// (owner or handler). A card opens its case through the handler given to onOpenCase()
// (main.js wires it to case.js; this module does not import the case view).

import { api } from "./api.js";
import { $, clear, countdown, el } from "./dom.js";
import { label, t } from "./i18n.js";
import { handleAuth } from "./shell.js";
import { state } from "./state.js";

let openCase = () => {};
export function onOpenCase(fn) { openCase = fn; }

export async function loadQueue() {
  try { state.queue = (await api("GET", "/api/queue?limit=200")).cases; } catch (e) { return handleAuth(e); }
  renderQueue();
}

export async function loadMine() {
  try { state.mine = (await api("GET", "/api/cases?mine=true&limit=100")).cases; } catch (e) { return handleAuth(e); }
  renderMine();
}

export function card(c, extra) {
  const problem = c.summary && c.summary.problem ? c.summary.problem : c.category;
  const current = state.current && state.current.id === c.id;
  return el("li", { className: "card-item" },
    el("button", { type: "button", className: "card" + (current ? " current" : ""), "data-case-id": c.id,
      "aria-current": current ? "true" : null, onclick: () => openCase(c.id) },
      el("span", { className: "card-top" },
        el("span", { className: "number", text: c.number }),
        el("span", { className: "badge tier tier-" + c.tier, text: label("tiers", c.tier) }),
        el("span", { className: "badge status-" + c.status, text: label("statuses", c.status) })),
      el("span", { className: "card-problem", text: problem }),
      el("span", { className: "card-bottom" },
        el("span", { className: "lang-tag", text: (c.language || "").toUpperCase() }),
        extra || null,
        c.status === "resolved" || c.status === "closed" ? null  // no clock once the result is in
          : c.status === "queued" || c.status === "transferred" ? countdown(c.first_response_due) : countdown(c.result_due))));
}

export function renderQueue() {
  const list = $("queue-list");
  clear(list);
  state.queue.forEach((c) => list.append(card(c)));
  $("queue-empty").hidden = state.queue.length > 0;
  $("queue-count").textContent = state.queue.length ? `(${state.queue.length})` : "";
}

export function renderMine() {
  const list = $("mine-list");
  clear(list);
  const meId = state.me && state.me.id;
  state.mine.forEach((c) => {
    const roles = [];
    if (c.owner && c.owner.id === meId) roles.push(t("you_own"));
    const settled = c.status === "resolved" || c.status === "closed";
    if (c.handler && c.handler.id === meId) roles.push(t(settled ? "you_handled" : "you_handle"));
    list.append(card(c, el("span", { className: "role", text: roles.join(" · ") })));
  });
  $("mine-empty").hidden = state.mine.length > 0;
  $("mine-count").textContent = state.mine.length ? `(${state.mine.length})` : "";
}

// Both lists again (after an action that moves a case between them).
export function reloadLists() {
  loadQueue(); loadMine();
}

// The page around the work: the static text in the current language, the top bar
// (who is signed in, live connection), the notice banner, the case message line,
// and the switch back to the login form.

import { errorText } from "./api.js";
import { $ } from "./dom.js";
import { getLang, t } from "./i18n.js";
import { reviews, state, supervises, worksCases } from "./state.js";

export function notice(text) {
  $("notice-text").textContent = text;
  $("notice").hidden = !text;
}

export function caseMessage(text, kind) {
  const p = $("case-message");
  p.textContent = text || "";
  p.className = "case-message" + (kind ? " " + kind : "");
}

export function setLive(on) {
  if (!state.me || !worksCases(state.me)) { $("live").textContent = ""; return; } // trainers have no live feed
  $("live").textContent = on ? t("live_on") : t("live_off");
  $("live").className = "live " + (on ? "on" : "off");
}

export function renderMe() {
  const me = state.me;
  $("me").textContent = me ? `${me.username} · ${me.role}${me.team ? " · " + me.team : ""}` : "";
}

// The page's own text (data-i18n, data-i18n-aria-label), its language and title.
export function applyI18n() {
  const lang = getLang();
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = lang === "zh" ? "坐席工作台 · Agent console" : "Agent console · 坐席工作台";
  document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
  document.querySelectorAll("[data-i18n-aria-label]").forEach((n) => n.setAttribute("aria-label", t(n.dataset.i18nAriaLabel)));
  document.querySelectorAll(".lang button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === lang)));
  setLive(state.ws && state.ws.readyState === WebSocket.OPEN);
}

// The views and the element each one shows.
const VIEWS = {
  cases: "work-view", review: "review-view", outages: "outages-view",
  board: "board-view", dashboard: "dashboard-view", audit: "audit-view",
};

// The tabs this staff member may use: cases and outages (agents, supervisors), review (trainers,
// supervisors), the board, the dashboard and the audit log (supervisors).
export function renderTabs() {
  const me = state.me;
  $("view-tabs").hidden = !reviews(me) && !worksCases(me);
  $("tab-cases").hidden = !worksCases(me);
  $("tab-review").hidden = !reviews(me);
  $("tab-outages").hidden = !worksCases(me);
  $("tab-board").hidden = !supervises(me);
  $("tab-dashboard").hidden = !supervises(me);
  $("tab-audit").hidden = !supervises(me);
}

// Shows one view (a key of VIEWS) and hides the others.
export function showView(name) {
  for (const [view, id] of Object.entries(VIEWS)) $(id).hidden = view !== name;
  document.querySelectorAll("#view-tabs button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.view === name)));
}

export const currentView = () => Object.keys(VIEWS).find((view) => !$(VIEWS[view]).hidden) || null;

export function showLogin() {
  state.me = null;
  for (const id of Object.values(VIEWS)) $(id).hidden = true;
  $("view-tabs").hidden = true;
  $("logout").hidden = true;
  $("me").textContent = "";
  $("live").textContent = "";
  $("login-view").hidden = false;
  $("login-username").focus();
}

// A failed load: back to the login form when the session is gone, else a notice.
export function handleAuth(e) {
  if (e.status === 401) showLogin(); else notice(errorText(e));
}

export function initShell() {
  $("notice-close").addEventListener("click", () => notice(""));
}

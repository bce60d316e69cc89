// Signing in and out, and entering the work view with everything it needs.

import { api, errorText } from "./api.js";
import { $ } from "./dom.js";
import { t } from "./i18n.js";
import { loadPhrasing, loadStaff, renderCase } from "./case.js";
import { forgetIntents, loadIntents } from "./intents.js";
import { connect, disconnect } from "./live.js";
import { loadMine, loadQueue } from "./queue.js";
import { loadVisits } from "./visits.js";
import { enterReview } from "./review.js";
import { applyI18n, notice, renderMe, renderTabs, showLogin, showView } from "./shell.js";
import { state, worksCases } from "./state.js";

// The page's start: the work view when the session cookie is still good, else the login form.
export async function start() {
  applyI18n();
  try {
    state.me = await api("GET", "/api/auth/me");
  } catch (e) {
    if (e.status === 401 || e.status === 403) return showLogin();
    notice(errorText(e));
    return showLogin();
  }
  await enterWork();
}

// Agents and supervisors start in the case work (supervisors have the review tab too);
// trainers, who do not work cases, in the review list.
async function enterWork() {
  $("login-view").hidden = true;
  $("logout").hidden = false;
  renderMe();
  renderTabs();
  if (!worksCases(state.me)) {
    showView("review");
    await enterReview();
    return;
  }
  showView("cases");
  connect();
  await Promise.all([loadQueue(), loadMine(), loadVisits(), loadStaff(), loadPhrasing(), loadIntents()]);
  renderCase();
}

async function login(ev) {
  ev.preventDefault();
  const username = $("login-username").value.trim();
  const password = $("login-password").value;
  $("login-error").textContent = "";
  if (!username || !password) { $("login-error").textContent = t("empty_text"); return; }
  $("login-submit").disabled = true;
  try {
    await api("POST", "/api/auth/login", { username, password });
    $("login-password").value = "";
    state.me = await api("GET", "/api/auth/me");
    await enterWork();
  } catch (e) {
    $("login-error").textContent = errorText(e);
  } finally {
    $("login-submit").disabled = false;
  }
}

async function logout() {
  try { await api("POST", "/api/auth/logout"); } catch { /* the session may be gone already */ }
  disconnect();
  forgetIntents();
  state.current = null;
  showLogin();
}

export function initLogin() {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
}

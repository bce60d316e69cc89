// Agent console: native ES modules, no build step, loaded by console.html with
// <script type="module">. Every piece of data is put on the page with textContent
// (el() in dom.js); innerHTML is never used. This module wires the others together:
//
//   strings <- i18n <- dom, api <- shell, intents <- queue, visits, correction <- transcript, compose
//   <- case <- actions, live; review_list <- review_detail <- review_keys, review_kpis <- review
//   <- login <- main                                   (state.js: shared, imports nothing)
//   outage_data <- outages_forms <- outages <- live, main (the outages view)
//   queue <- board <- live, main (the supervisors' live board); audit_log <- main (their audit log)
//   dashboard_data <- dashboard_charts, forecast <- dashboard <- main (the supervisors' dashboard)

import { initActions } from "./actions.js";
import { enterAudit, initAudit, renderAudit } from "./audit_log.js";
import { enterBoard, initBoard, onOpenCaseFromBoard, renderBoard } from "./board.js";
import { openCase, reloadCase, renderCase } from "./case.js";
import { initCompose } from "./compose.js";
import { enterDashboard, renderDashboard } from "./dashboard.js";
import { startClock } from "./dom.js";
import { setLang } from "./i18n.js";
import { initLogin, start } from "./login.js";
import { enterOutages, initOutages, onOpenCaseFromOutages, renderOutages } from "./outages.js";
import { onOpenCase, reloadLists, renderMine, renderQueue } from "./queue.js";
import { enterReview, initReview, onOpenCaseFromReview, renderReview } from "./review.js";
import { applyI18n, currentView, initShell, renderMe, showView } from "./shell.js";
import { state, supervises, worksCases } from "./state.js";
import { initVisits, onOpenVisitCase, onVisitAnswered, renderVisits } from "./visits.js";

startClock();
initShell();
// a case card opens its case, in the case view (the board shows the queue's cards too)
onOpenCase((id) => { if (currentView() !== "cases") showView("cases"); openCase(id); });
onOpenVisitCase(openCase);
onVisitAnswered(async () => { await reloadCase(); reloadLists(); });
onOpenCaseFromReview((id) => { showView("cases"); openCase(id); });
onOpenCaseFromOutages((id) => { showView("cases"); openCase(id); });
onOpenCaseFromBoard((id) => { showView("cases"); openCase(id); });

document.querySelectorAll("#view-tabs button").forEach((b) => b.addEventListener("click", () => {
  if (currentView() === b.dataset.view) return;
  showView(b.dataset.view);
  if (b.dataset.view === "review") enterReview();
  if (b.dataset.view === "outages") enterOutages();
  if (b.dataset.view === "board") enterBoard();
  if (b.dataset.view === "audit") enterAudit();
  if (b.dataset.view === "dashboard") enterDashboard();
}));

document.querySelectorAll(".lang button").forEach((b) => b.addEventListener("click", () => {
  setLang(b.dataset.lang);
  applyI18n();
  if (!state.me) return;
  renderMe();
  if (worksCases(state.me)) { renderQueue(); renderMine(); renderVisits(); renderCase(); }
  renderReview();
  if (worksCases(state.me)) renderOutages();
  if (supervises(state.me)) { renderBoard(); renderAudit(); }
  if (currentView() === "dashboard") renderDashboard();
}));

initLogin();
initActions();
initCompose();
initVisits();
initReview();
initOutages();
initBoard();
initAudit();
start();

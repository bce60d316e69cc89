// Agent console: native ES modules, no build step, loaded by console.html with
// <script type="module">. Every piece of data is put on the page with textContent
// (el() in dom.js); innerHTML is never used. This module wires the others together:
//
//   strings <- i18n <- dom, api <- shell <- queue, transcript, compose <- case
//   <- actions, live <- login <- main                (state.js: shared, imports nothing)

import { initActions } from "./actions.js";
import { openCase, renderCase } from "./case.js";
import { initCompose } from "./compose.js";
import { startClock } from "./dom.js";
import { setLang } from "./i18n.js";
import { initLogin, start } from "./login.js";
import { onOpenCase, renderMine, renderQueue } from "./queue.js";
import { applyI18n, initShell, renderMe } from "./shell.js";
import { state } from "./state.js";

startClock();
initShell();
onOpenCase(openCase);

document.querySelectorAll(".lang button").forEach((b) => b.addEventListener("click", () => {
  setLang(b.dataset.lang);
  applyI18n();
  if (state.me) { renderMe(); renderQueue(); renderMine(); renderCase(); }
}));

initLogin();
initActions();
initCompose();
start();

// The outages view (服务中断): the notices in force (or resolved, or all), the chosen one with its updates
// (time, author; append-only), its linked cases and how many customers reported it; supervisors publish,
// update and resolve notices and resolve the linked cases together (outages_forms.js). Agents read only.

import { errorText } from "./api.js";
import { $, clear, el, fmtTime } from "./dom.js";
import { label, t } from "./i18n.js";
import {
  loadList, loadNotice, loadVocabulary, outageMessage, outages, pick, statusLabel, topicLabel,
} from "./outage_data.js";
import { initOutageForms, onOutageChanged, renderForms } from "./outages_forms.js";

let openCaseHook = () => {};
// fn(caseId): open a linked case in the case view
export function onOpenCaseFromOutages(fn) { openCaseHook = fn; }

// Everything the view shows, fresh from the server (on entering it, and after a live change).
export async function enterOutages() {
  try {
    await loadVocabulary();
    await loadList();
    if (outages.current) await loadNotice(outages.current.id);
  } catch (e) {
    outageMessage(errorText(e), "error");
  }
  renderOutages();
}

async function open(id) {
  try {
    await loadNotice(id);
    outages.composing = false;
    outageMessage("");
  } catch (e) {
    outageMessage(errorText(e), "error");
  }
  renderOutages();
  if (outages.current) $("outage-title").focus();
}

function renderList() {
  const list = $("outage-list");
  clear(list);
  outages.list.forEach((n) => {
    const current = outages.current && outages.current.id === n.id;
    list.append(el("li", {}, el("button", {
      type: "button", className: "card" + (current ? " current" : ""), "aria-pressed": String(!!current),
      "data-outage-id": n.id, onclick: () => open(n.id),
    },
    el("span", { className: "card-top" }, el("span", { className: "badge status-" + n.status, text: statusLabel(n.status) }),
      el("span", { className: "number", text: pick(n.title) })),
    el("span", { className: "card-bottom muted", text: t("outage_counts", { c: n.linked_cases, r: n.reports }) }))));
  });
  $("outage-empty").hidden = outages.list.length > 0;
}

function meta(dl, rows) {
  clear(dl);
  rows.forEach(([k, v]) => dl.append(el("dt", { text: k }), el("dd", { text: v })));
}

function renderDetail() {
  const n = outages.current;
  $("outage-item").hidden = !n;
  if (!n) return;
  $("outage-title").textContent = pick(n.title);
  meta($("outage-meta"), [
    [t("outage_status"), statusLabel(n.status)],
    [t("topics"), n.topics.length ? n.topics.map(topicLabel).join("、") : t("outage_general")],
    [t("eta"), n.expected_recovery_at ? fmtTime(n.expected_recovery_at) : t("eta_unknown")],
    [t("outage_reports"), t("outage_counts", { c: n.linked_cases, r: n.reports })],
    [t("created"), `${fmtTime(n.created_at)} · ${(n.created_by && n.created_by.username) || "?"}`],
  ]);
  const review = $("outage-review");
  review.hidden = !n.review;
  review.textContent = n.review ? t("outage_review_line", n.review) : "";
  const ups = $("outage-updates");
  clear(ups);
  (n.updates || []).forEach((u) => ups.append(el("li", { "data-update-id": u.id },
    el("span", { className: "muted", text: `${fmtTime(u.at)} · ${(u.author && u.author.username) || "?"} · ${statusLabel(u.status)}` }),
    el("p", { className: "outage-update-text", text: pick(u.message) }),
    el("span", { className: "muted", text: t("outage_notified", { n: u.notified }) }))));
  const cases = $("outage-cases");
  clear(cases);
  (n.cases || []).forEach((c) => cases.append(el("li", {}, el("button", {
    type: "button", className: "card", "data-case-number": c.number, onclick: () => openCaseHook(c.id),
  }, el("span", { className: "card-top" }, el("span", { className: "number", text: c.number }),
    el("span", { className: "badge status-" + c.status, text: label("statuses", c.status) }),
    el("span", { className: "lang-tag", text: c.language })),
  el("span", { className: "card-bottom muted", text: `${fmtTime(c.linked_at)} · ${c.linked_by}` })))));
  $("outage-cases-count").textContent = String((n.cases || []).length);
}

// In the current language (after a switch), without asking the server again.
export function renderOutages() {
  renderList();
  renderDetail();
  renderForms();
}

// A live "outage.changed" event: refresh what is on screen when the view is open.
export function outageChanged() {
  if (!$("outages-view").hidden) enterOutages();
}

export function initOutages() {
  initOutageForms();
  onOutageChanged(async (id) => {
    await loadList().catch(() => {});
    await open(id);
  });
  $("outage-filter").addEventListener("change", () => {
    outages.filter = $("outage-filter").value;
    enterOutages();
  });
}

// The supervisors' forms of the outages view: publish a notice, append an update, resolve it with a short
// review, resolve its linked cases together. Each sends one request; what the server answers is shown.

import { api, errorText } from "./api.js";
import { $, clear, el } from "./dom.js";
import { t } from "./i18n.js";
import { isSupervisor, outageMessage, outages, pick, statusLabel, topicLabel, unixSeconds } from "./outage_data.js";

let changed = async () => {};
// fn(id): what to do after a change of notice id (reload and show it)
export function onOutageChanged(fn) { changed = fn; }

const value = (id) => $(id).value.trim();
const bilingual = (prefix) => ({ zh: value(prefix + "-zh"), en: value(prefix + "-en") });
const filled = (...ids) => ids.every((id) => value(id));

async function send(button, method, path, body, done) {
  $(button).disabled = true;
  try {
    const out = await api(method, path, body);
    await done(out);
  } catch (e) {
    outageMessage(errorText(e), "error");
  } finally {
    $(button).disabled = false;
  }
}

async function publish(ev) {
  ev.preventDefault();
  if (!filled("op-title-zh", "op-title-en", "op-message-zh", "op-message-en")) { outageMessage(t("outage_fill"), "error"); return; }
  const topics = [...$("op-topics").querySelectorAll("input:checked")].map((c) => c.value);
  const body = { title: bilingual("op-title"), message: bilingual("op-message"), topics, status: $("op-status").value,
    expected_recovery_at: unixSeconds($("op-eta").value) };
  await send("op-submit", "POST", "/api/outages", body, async (notice) => {
    $("outage-publish").reset();
    outages.composing = false;
    await changed(notice.id);
    outageMessage(t("outage_published"), "ok");
  });
}

async function addUpdate(ev) {
  ev.preventDefault();
  const n = outages.current;
  if (!n) return;
  if (!filled("ou-message-zh", "ou-message-en")) { outageMessage(t("outage_fill"), "error"); return; }
  const body = { message: bilingual("ou-message"), status: $("ou-status").value, version: n.version };
  const eta = unixSeconds($("ou-eta").value);
  if (eta !== null) body.expected_recovery_at = eta;
  await send("ou-submit", "POST", `/api/outages/${n.id}/updates`, body, async (out) => {
    $("outage-update").reset();
    await changed(n.id);
    outageMessage(t("outage_updated", { n: out.latest ? out.latest.notified : 0 }), "ok");
  });
}

async function resolve(ev) {
  ev.preventDefault();
  const n = outages.current;
  if (!n) return;
  if (!filled("or-message-zh", "or-message-en", "or-cause", "or-fix", "or-prevention")) { outageMessage(t("outage_fill"), "error"); return; }
  const body = { message: bilingual("or-message"), version: n.version,
    review: { cause: value("or-cause"), fix: value("or-fix"), prevention: value("or-prevention") } };
  await send("or-submit", "POST", `/api/outages/${n.id}/resolve`, body, async (out) => {
    $("outage-resolve").reset();
    await changed(n.id);
    outageMessage(t("outage_resolved_msg", { n: out.latest ? out.latest.notified : 0 }), "ok");
  });
}

async function resolveCases(ev) {
  ev.preventDefault();
  const n = outages.current;
  if (!n) return;
  if (!filled("orc-result")) { outageMessage(t("need_result"), "error"); return; }
  await send("orc-submit", "POST", `/api/outages/${n.id}/resolve-cases`, { result: value("orc-result") }, async (out) => {
    $("outage-resolve-cases").reset();
    await changed(n.id);
    outageMessage(t("outage_cases_resolved", { n: out.resolved.length, s: out.skipped.length }), "ok");
  });
}

function options(select, names) {
  const keep = select.value;
  clear(select);
  names.forEach((name) => select.append(el("option", { value: name, text: statusLabel(name) })));
  if (names.includes(keep)) select.value = keep;
}

// The forms a supervisor may use now, with the statuses the vocabulary allows from the notice's status.
export function renderForms() {
  const sup = isSupervisor(), v = outages.vocabulary, n = outages.current;
  $("outage-new").hidden = !sup;
  $("outage-publish").hidden = !(sup && outages.composing);
  if (v) {
    options($("op-status"), v.publish_statuses || []);
    const box = $("op-topics");
    const checked = new Set([...box.querySelectorAll("input:checked")].map((c) => c.value));
    box.querySelectorAll("label").forEach((l) => l.remove());
    v.topics.forEach((tp) => box.append(el("label", {},
      el("input", { type: "checkbox", value: tp.name, checked: checked.has(tp.name) || undefined }), " ", pick(tp.label) || topicLabel(tp.name))));
  }
  const inForce = !!n && n.in_force;
  $("outage-update").hidden = !(sup && inForce);
  $("outage-resolve").hidden = !(sup && inForce);
  $("outage-resolve-cases").hidden = !(sup && n && n.cases && n.cases.some((c) => c.status === "open" || c.status === "in_progress"));
  if (v && n && inForce) options($("ou-status"), v.transitions[n.status] || []);
}

export function initOutageForms() {
  $("outage-publish").addEventListener("submit", publish);
  $("outage-update").addEventListener("submit", addUpdate);
  $("outage-resolve").addEventListener("submit", resolve);
  $("outage-resolve-cases").addEventListener("submit", resolveCases);
  $("outage-new").addEventListener("click", () => {
    outages.composing = true;
    renderForms();
    $("op-title-zh").focus();
  });
}

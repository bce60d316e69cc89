// The open case's conversation: the bot's part (from Rasa's tracker) merged with the
// case's messages, live additions, the delivery status of each agent reply, and on each
// customer message the agent's "the customer meant…" (correction.js).

import { api, errorText } from "./api.js";
import { correctionControl, openCorrections, reopenCorrections } from "./correction.js";
import { $, clear, el, fmtTime } from "./dom.js";
import { t } from "./i18n.js";
import { caseMessage } from "./shell.js";
import { state } from "./state.js";

function deliveryNode(d, messageId) {
  if (!d) return null;
  const node = el("span", { className: "delivery " + d.status, "data-delivery-for": messageId, text: t(d.status) });
  if (d.status === "failed") {
    node.append(" ", el("button", { type: "button", className: "link", text: t("retry"), onclick: () => retry(messageId) }));
  }
  return node;
}

function transcriptItem(item) {
  const who = item.kind === "agent" && item.author ? `${t("agent")} ${item.author.display_name}` : t(item.kind);
  return el("li", { className: "msg " + item.kind, "data-message-id": item.message_id || null },
    el("span", { className: "who", text: who }),
    el("time", { dateTime: item.at || null, text: fmtTime(item.at) }),
    el("p", { className: "text", text: item.text }),
    item.kind === "agent" ? deliveryNode(item.delivery, item.message_id) : null,
    correctionControl(item));
}

export function renderTranscript() {
  const tr = state.transcript || { rasa: { available: true }, items: [] };
  const list = $("transcript");
  const caseId = String(state.current ? state.current.id : "");
  const open = list.dataset.caseId === caseId ? openCorrections(list) : []; // the same case drawn again
  list.dataset.caseId = caseId;
  const scroll = list.scrollTop, atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  clear(list);
  tr.items.forEach((i) => list.append(transcriptItem(i)));
  reopenCorrections(list, open);
  $("rasa-notice").hidden = tr.rasa.available;
  $("rasa-notice").textContent = tr.rasa.available ? "" : t("rasa_unavailable");
  list.scrollTop = open.length && !atEnd ? scroll : list.scrollHeight;
}

// A message of the open case (as the API returns it), appended once.
export function addMessage(m) {
  if (!state.transcript) return;
  if (state.transcript.items.some((i) => i.message_id === m.id)) return;
  const item = { source: "case", kind: m.direction, text: m.text, at: m.created_at, message_id: m.id, author: m.author, delivery: m.delivery };
  state.transcript.items.push(item);
  const list = $("transcript");
  list.append(transcriptItem(item));
  list.scrollTop = list.scrollHeight;
}

export function updateDelivery(messageId, delivery) {
  if (!state.transcript) return;
  const item = state.transcript.items.find((i) => i.message_id === messageId);
  if (!item) return;
  item.delivery = { ...(item.delivery || {}), ...delivery };
  const old = document.querySelector(`[data-delivery-for="${CSS.escape(String(messageId))}"]`);
  const fresh = deliveryNode(item.delivery, messageId);
  if (old && fresh) old.replaceWith(fresh);
}

async function retry(messageId) {
  const c = state.current;
  try {
    const m = await api("POST", `/api/cases/${c.id}/messages/${messageId}/retry`);
    updateDelivery(messageId, m.delivery);
  } catch (e) { caseMessage(errorText(e), "error"); }
}

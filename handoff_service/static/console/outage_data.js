// What the outages view knows (its vocabulary, the list, the open notice) and how it asks the server.
// Statuses, their transitions and the topics are the server's data (GET /api/outages/vocabulary).

import { api } from "./api.js";
import { $ } from "./dom.js";
import { getLang } from "./i18n.js";
import { state } from "./state.js";

export const outages = { vocabulary: null, list: [], current: null, filter: "in_force", composing: false };

// supervisors publish and change notices; agents read them (the server checks every call anyway)
export const isSupervisor = () => !!state.me && state.me.role === "supervisor";

// {zh, en} -> the text of the console's language
export const pick = (labels) => (labels && (labels[getLang()] || labels.zh)) || "";

function labelOf(group, name) {
  const found = ((outages.vocabulary && outages.vocabulary[group]) || []).find((x) => x.name === name);
  return found ? pick(found.label) : name;
}
export const statusLabel = (name) => labelOf("statuses", name);
export const topicLabel = (name) => labelOf("topics", name);

// datetime-local value (the browser's zone) -> Unix seconds, or null when empty
export function unixSeconds(value) {
  if (!value) return null;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
}

export function outageMessage(text, kind) {
  const p = $("outage-message");
  p.textContent = text || "";
  p.className = "case-message" + (kind ? " " + kind : "");
}

export async function loadVocabulary() {
  if (!outages.vocabulary) outages.vocabulary = await api("GET", "/api/outages/vocabulary");
}

export async function loadList() {
  const data = await api("GET", `/api/outages?status=${encodeURIComponent(outages.filter)}&limit=100`);
  outages.list = data.notices || [];
}

export async function loadNotice(id) {
  outages.current = await api("GET", `/api/outages/${encodeURIComponent(id)}`);
}

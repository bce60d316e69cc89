// Live events over the websocket /api/ws: reconnects with backoff, catches up on
// (re)connect, and refreshes what an event touched (debounced by soon()).

import { boardSoon } from "./board.js";
import { reloadCase, reloadTranscript } from "./case.js";
import { outageChanged } from "./outages.js";
import { loadMine, loadQueue } from "./queue.js";
import { setLive, showLogin } from "./shell.js";
import { state } from "./state.js";
import { addMessage, updateDelivery } from "./transcript.js";
import { loadVisits } from "./visits.js";

const SIGNED_OUT = 4401; // close code: the session or token behind the socket ended
const refreshTimers = {};
function soon(name, fn) {
  clearTimeout(refreshTimers[name]);
  refreshTimers[name] = setTimeout(fn, 100);
}

export function connect() {
  if (state.ws) return;
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/ws");
  state.ws = ws;
  ws.onopen = () => {
    state.wsRetry = 0;
    setLive(true);
    // anything missed while disconnected
    soon("queue", loadQueue); soon("mine", loadMine); soon("visits", loadVisits);
    if (state.current) { soon("case", reloadCase); soon("transcript", reloadTranscript); }
    boardSoon();
  };
  ws.onmessage = (msg) => {
    let ev;
    try { ev = JSON.parse(msg.data); } catch { return; }
    onEvent(ev);
  };
  ws.onclose = (ev) => {
    state.ws = null;
    setLive(false);
    if (ev.code === SIGNED_OUT) { showLogin(); return; } // logged out elsewhere, revoked or expired
    if (!state.me) return;
    const wait = Math.min(15000, 500 * 2 ** state.wsRetry++);
    setTimeout(() => { if (state.me) connect(); }, wait);
  };
}

// Closes the websocket for good (logout): no reconnect.
export function disconnect() {
  if (state.ws) { state.ws.onclose = null; state.ws.close(); state.ws = null; }
}

// what can change the supervisors' live board (board.js fetches it again when these pause)
const BOARD_EVENTS = new Set(["queue.changed", "case.created", "case.updated", "sla.warning", "sla.breach",
  "sla.acknowledged", "presence.changed", "outage.changed", "follow_up.changed"]);

function onEvent(ev) {
  const cur = state.current;
  const isCurrent = (id) => cur && cur.id === id;
  if (BOARD_EVENTS.has(ev.type)) boardSoon();
  switch (ev.type) {
    case "queue.changed":
    case "case.created":
    case "sla.warning":
    case "sla.breach":
      soon("queue", loadQueue);
      soon("mine", loadMine);
      if (ev.case && isCurrent(ev.case.id)) soon("case", reloadCase);
      break;
    case "case.updated":
      soon("mine", loadMine);
      soon("queue", loadQueue);
      if (ev.case && isCurrent(ev.case.id)) soon("case", reloadCase);
      break;
    case "message.new":
      if (isCurrent(ev.case_id)) addMessage(ev.message);
      break;
    case "message.delivery":
      if (isCurrent(ev.case_id) && ev.message_id) updateDelivery(ev.message_id, ev.delivery);
      break;
    case "note.new":
    case "sla.acknowledged":
      if (isCurrent(ev.case_id)) soon("case", reloadCase);
      break;
    case "follow_up.changed":
      soon("visits", loadVisits);
      if (isCurrent(ev.case_id)) soon("case", reloadCase);
      break;
    case "outage.changed":
      soon("outages", outageChanged);
      break;
    default:
      break;
  }
}

// What the console knows: one object shared by the modules (no module owns it).

export const state = {
  me: null,
  queue: [],
  mine: [],
  visits: [], // my cases' follow-up visits still to make (visits.js)
  staff: [],
  phrasing: null,
  current: null, // the open case (full JSON, with my_actions)
  transcript: null, // {rasa, items}
  timeline: [],
  ws: null,
  wsRetry: 0,
};

// May the signed-in staff member do action a on case c now? The server says so: every
// case it returns to staff carries my_actions, the sorted names of what the caller may do
// on it (accept, claim, reply, note, transfer, resolve, reopen, close, change_tier).
// The console does not re-derive this from status, role, owner, handler or team.
export const can = (c, a) => !!c && Array.isArray(c.my_actions) && c.my_actions.includes(a);

// What a staff member's role lets them see in the console (the server checks every call anyway):
// agents and supervisors work cases; trainers and supervisors review what the bot misunderstood.
export const worksCases = (me) => !!me && (me.role === "agent" || me.role === "supervisor");
export const reviews = (me) => !!me && (me.role === "trainer" || me.role === "supervisor");
// supervisors only: the live board, the dashboard and the audit log
export const supervises = (me) => !!me && me.role === "supervisor";

// What the console knows: one object shared by the modules (no module owns it).

export const state = {
  me: null,
  queue: [],
  mine: [],
  staff: [],
  phrasing: null,
  current: null, // the open case (full JSON, with my_actions)
  transcript: null, // {rasa, items}
  timeline: [],
  ws: null,
  wsRetry: 0,
};

// Which buttons the signed-in staff member may use on case c, derived from its status,
// the staff member's role and the case's owner, handler and team.
export function canAct(c) {
  const me = state.me;
  const isOwner = c.owner && c.owner.id === me.id;
  const isHandler = c.handler && c.handler.id === me.id;
  const sup = me.role === "supervisor";
  return {
    accept: c.status === "queued",
    claim: c.status === "transferred" && (sup || (me.team && me.team === c.handler_team)),
    reply: c.status === "in_progress" && isHandler,
    note: sup || isOwner || isHandler,
    transfer: (c.status === "in_progress" || c.status === "transferred") && (sup || isOwner || isHandler),
    resolve: c.status === "in_progress" && (sup || isHandler),
  };
}

// May the signed-in staff member do action a on case c now?
export const can = (c, a) => !!c && !!canAct(c)[a];

// Agent console: plain JavaScript, no build step. Every piece of data is put on
// the page with textContent (el() below); innerHTML is never used.
"use strict";

// ------------------------------------------------------------------ i18n

const STRINGS = {
  zh: {
    app_title: "坐席工作台", skip: "跳到主要内容", logout: "退出登录", dismiss: "关闭",
    login_title: "坐席登录", username: "用户名", password: "密码", login: "登录",
    lists_label: "案件列表", queue_title: "待接入队列", queue_hint: "按级别、再按首次响应时限排序",
    queue_empty: "队列为空", mine_title: "我的案件", mine_hint: "我负责（首问）或正在处理的案件", mine_empty: "暂无案件",
    pick_case: "从左侧选择一个案件", accept: "接入", claim: "认领",
    summary_title: "摘要卡", transcript_title: "对话记录", reply_title: "回复顾客",
    phrases_label: "标准用语", reply_label: "回复内容（Ctrl+Enter 发送）", send: "发送",
    notes_title: "内部备注（仅员工可见）", note_label: "新备注", add_note: "添加备注",
    transfer_title: "转交（负责人不变）", transfer_agent: "转给坐席", transfer_team: "或转给团队",
    transfer_note: "交接说明", transfer: "转交", resolve_title: "解决",
    resolve_label: "处理结果（顾客将收到满意度调查）", resolve: "标记为已解决", timeline_title: "处理时间线",
    live_on: "● 实时连接", live_off: "○ 正在重新连接…",
    owner: "负责人", handler: "当前处理人", team: "团队", language: "语言", channel: "渠道", category: "类别",
    created: "创建时间", first_response: "首次响应时限", result_due: "结果时限",
    problem: "问题", collected: "已收集信息", steps_tried: "已尝试步骤", emotion: "情绪", severity: "严重程度",
    reason: "转人工原因", description: "描述", none: "—",
    you_own: "我负责", you_handle: "我处理中", you_handled: "我处理过",
    left: "剩余 {t}", overdue: "已超时 {t}", met: "已达成", breached: "已超时",
    customer: "顾客", bot: "机器人", agent: "坐席",
    pending: "发送中…", delivered: "已送达", failed: "发送失败", retry: "重试",
    rasa_unavailable: "无法读取机器人对话记录（Rasa 无法访问），下面只显示人工接入后的消息。",
    taboo_warning: "注意：回复中含有服务禁忌用语：{list}。请换一种说法。",
    reply_only_handler: "只有当前处理人可以回复。", reply_ready: "将通过顾客正在使用的渠道送达。",
    no_agent: "（选择坐席）", no_team: "（选择团队）", pick_target: "请选择要转交的坐席或团队。",
    need_result: "请填写处理结果。", empty_text: "内容不能为空。",
    accepted: "已接入，您是此案件的负责人。", claimed: "已认领。",
    transferred_ok: "已转交，负责人仍为 {owner}。", resolved_ok: "已解决，机器人将请顾客评价。",
    note_added: "备注已添加。",
    taken_by: "接入失败：该案件已被 {owner} 接入。",
    err_not_handler: "只有当前处理人可以执行此操作。", err_conflict: "案件刚被他人更新，已刷新，请重试。",
    err_transition: "当前状态不允许此操作：{msg}", err_csrf: "会话已失效，请重新登录。",
    err_credentials: "用户名或密码错误。", err_rate: "尝试次数过多，请 {s} 秒后再试。",
    err_network: "网络错误，请检查连接后重试。", err_generic: "操作失败：{msg}",
    statuses: { open: "机器人处理中", queued: "排队中", in_progress: "处理中", transferred: "已转交团队", resolved: "已解决", closed: "已归档" },
    tiers: { critical: "紧急", high: "高", normal: "普通" },
    actions: { created: "创建", request_handoff: "转人工", accept: "接入", transfer: "转交", claim: "认领", resolve: "解决", reopen: "重开", close: "归档", note: "备注", updated: "更新", tier_changed: "调整级别", csat_recorded: "满意度", follow_up: "回访" },
  },
  en: {
    app_title: "Agent console", skip: "Skip to main content", logout: "Log out", dismiss: "Dismiss",
    login_title: "Agent login", username: "Username", password: "Password", login: "Log in",
    lists_label: "Case lists", queue_title: "Queue", queue_hint: "By tier, then first-response deadline",
    queue_empty: "The queue is empty", mine_title: "My cases", mine_hint: "Cases I own (first contact) or handle", mine_empty: "No cases",
    pick_case: "Pick a case on the left", accept: "Accept", claim: "Claim",
    summary_title: "Summary", transcript_title: "Conversation", reply_title: "Reply to the customer",
    phrases_label: "Standard phrases", reply_label: "Your reply (Ctrl+Enter sends)", send: "Send",
    notes_title: "Private notes (staff only)", note_label: "New note", add_note: "Add note",
    transfer_title: "Transfer (the owner stays)", transfer_agent: "To an agent", transfer_team: "Or to a team",
    transfer_note: "Handover note", transfer: "Transfer", resolve_title: "Resolve",
    resolve_label: "Result (the customer then gets the satisfaction survey)", resolve: "Mark resolved",
    timeline_title: "Timeline",
    live_on: "● Live", live_off: "○ Reconnecting…",
    owner: "Owner", handler: "Handler", team: "Team", language: "Language", channel: "Channel", category: "Category",
    created: "Opened", first_response: "First response due", result_due: "Result due",
    problem: "Problem", collected: "Collected", steps_tried: "Steps tried", emotion: "Emotion", severity: "Severity",
    reason: "Handoff reason", description: "Description", none: "—",
    you_own: "I own", you_handle: "I handle", you_handled: "I handled",
    left: "{t} left", overdue: "{t} overdue", met: "met", breached: "breached",
    customer: "Customer", bot: "Bot", agent: "Agent",
    pending: "sending…", delivered: "delivered", failed: "not delivered", retry: "Retry",
    rasa_unavailable: "The bot's part of the conversation could not be read (Rasa is unreachable); only the messages since the handoff are shown.",
    taboo_warning: "Careful: your reply contains a service taboo: {list}. Please rephrase.",
    reply_only_handler: "Only the current handler can reply.", reply_ready: "Delivered on the channel the customer is using.",
    no_agent: "(choose an agent)", no_team: "(choose a team)", pick_target: "Choose an agent or a team to transfer to.",
    need_result: "Please describe the result.", empty_text: "The text must not be empty.",
    accepted: "Accepted: you own this case.", claimed: "Claimed.",
    transferred_ok: "Transferred; {owner} is still the owner.", resolved_ok: "Resolved; the bot will ask the customer for a rating.",
    note_added: "Note added.",
    taken_by: "Could not accept: {owner} already took this case.",
    err_not_handler: "Only the current handler can do this.", err_conflict: "Someone changed the case just now; reloaded, please retry.",
    err_transition: "Not possible in the case's current state: {msg}", err_csrf: "Your session expired; please log in again.",
    err_credentials: "Wrong username or password.", err_rate: "Too many attempts; try again in {s} s.",
    err_network: "Network error; check the connection and retry.", err_generic: "That did not work: {msg}",
    statuses: { open: "With the bot", queued: "Queued", in_progress: "In progress", transferred: "Transferred to a team", resolved: "Resolved", closed: "Closed" },
    tiers: { critical: "critical", high: "high", normal: "normal" },
    actions: { created: "created", request_handoff: "handoff requested", accept: "accepted", transfer: "transferred", claim: "claimed", resolve: "resolved", reopen: "reopened", close: "closed", note: "note", updated: "updated", tier_changed: "tier changed", csat_recorded: "satisfaction", follow_up: "follow-up" },
  },
};

const LANG_KEY = "console.language";
let lang = (() => {
  try { return localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh"; } catch (e) { return "zh"; }
})();

function t(key, vars) {
  let s = STRINGS[lang][key];
  if (s === undefined) s = STRINGS.zh[key] !== undefined ? STRINGS.zh[key] : key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split("{" + k + "}").join(String(v));
  return s;
}
const label = (group, key) => (STRINGS[lang][group] && STRINGS[lang][group][key]) || key;

// ------------------------------------------------------------------ DOM helpers (text only)

const $ = (id) => document.getElementById(id);

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "className") node.className = v;
    else if (k === "text") node.textContent = String(v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function clear(node) { node.replaceChildren(); }

function fmtTime(iso) {
  if (!iso) return t("none");
  const d = new Date(iso);
  return d.toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

function fmtSpan(ms) {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const hms = `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`;
  return d ? `${d}d ${hms}` : hms;
}

function countdown(due, state) {
  const node = el("span", { className: "countdown" });
  if (state === "met") { node.textContent = t("met"); node.classList.add("ok"); return node; }
  if (!due) { node.textContent = t("none"); return node; }
  node.dataset.due = due;
  tickOne(node);
  return node;
}

function tickOne(node) {
  const left = new Date(node.dataset.due).getTime() - Date.now();
  node.textContent = left >= 0 ? t("left", { t: fmtSpan(left) }) : t("overdue", { t: fmtSpan(left) });
  node.classList.toggle("overdue", left < 0);
  node.classList.toggle("soon", left >= 0 && left < 3600 * 1000);
}

setInterval(() => document.querySelectorAll("[data-due]").forEach(tickOne), 1000);

// ------------------------------------------------------------------ API

class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || code || String(status));
    this.status = status; this.code = code; this.details = details || {};
  }
}

function csrfToken() {
  const m = document.cookie.split("; ").find((c) => c.startsWith("handoff_csrf="));
  return m ? decodeURIComponent(m.slice("handoff_csrf=".length)) : "";
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  let resp;
  try {
    resp = await fetch(path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, "network", t("err_network"));
  }
  let data = null;
  if (resp.status !== 204) { try { data = await resp.json(); } catch (e) { data = null; } }
  if (!resp.ok) {
    const err = (data && data.error) || {};
    const e = new ApiError(resp.status, err.code, err.message, err.details);
    e.retryAfter = resp.headers.get("Retry-After");
    throw e;
  }
  return data;
}

function errorText(e) {
  switch (e.code) {
    case "case_already_taken": return t("taken_by", { owner: e.details.owner || "?" });
    case "not_case_handler": case "not_case_participant": case "not_case_owner": return t("err_not_handler");
    case "concurrent_change": return t("err_conflict");
    case "invalid_transition": return t("err_transition", { msg: e.message });
    case "csrf_failed": case "unauthenticated": return t("err_csrf");
    case "invalid_credentials": return t("err_credentials");
    case "rate_limited": return t("err_rate", { s: e.retryAfter || "60" });
    case "network": return t("err_network");
    default: return t("err_generic", { msg: e.message });
  }
}

// ------------------------------------------------------------------ state

const state = {
  me: null,
  queue: [],
  mine: [],
  staff: [],
  phrasing: null,
  current: null, // the open case (full JSON)
  transcript: null, // {rasa, items}
  timeline: [],
  ws: null,
  wsRetry: 0,
};

function notice(text) {
  $("notice-text").textContent = text;
  $("notice").hidden = !text;
}
$("notice-close").addEventListener("click", () => notice(""));

function caseMessage(text, kind) {
  const p = $("case-message");
  p.textContent = text || "";
  p.className = "case-message" + (kind ? " " + kind : "");
}

// ------------------------------------------------------------------ i18n application

function applyI18n() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = lang === "zh" ? "坐席工作台 · Agent console" : "Agent console · 坐席工作台";
  document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
  document.querySelectorAll("[data-i18n-aria-label]").forEach((n) => n.setAttribute("aria-label", t(n.dataset.i18nAriaLabel)));
  document.querySelectorAll(".lang button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === lang)));
  setLive(state.ws && state.ws.readyState === WebSocket.OPEN);
}

document.querySelectorAll(".lang button").forEach((b) => b.addEventListener("click", () => {
  lang = b.dataset.lang === "en" ? "en" : "zh";
  try { localStorage.setItem(LANG_KEY, lang); } catch (e) { /* ignore */ }
  applyI18n();
  if (state.me) { renderMe(); renderQueue(); renderMine(); renderCase(); }
}));

// ------------------------------------------------------------------ login

async function start() {
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

function showLogin() {
  state.me = null;
  $("work-view").hidden = true;
  $("logout").hidden = true;
  $("me").textContent = "";
  $("live").textContent = "";
  $("login-view").hidden = false;
  $("login-username").focus();
}

$("login-form").addEventListener("submit", async (ev) => {
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
});

$("logout").addEventListener("click", async () => {
  try { await api("POST", "/api/auth/logout"); } catch (e) { /* the session may be gone already */ }
  if (state.ws) { state.ws.onclose = null; state.ws.close(); state.ws = null; }
  state.current = null;
  showLogin();
});

function renderMe() {
  const me = state.me;
  $("me").textContent = me ? `${me.username} · ${me.role}${me.team ? " · " + me.team : ""}` : "";
}

async function enterWork() {
  $("login-view").hidden = true;
  $("work-view").hidden = false;
  $("logout").hidden = false;
  renderMe();
  connect();
  await Promise.all([loadQueue(), loadMine(), loadStaff(), loadPhrasing()]);
  renderCase();
}

// ------------------------------------------------------------------ lists

async function loadQueue() {
  try { state.queue = (await api("GET", "/api/queue?limit=200")).cases; } catch (e) { return handleAuth(e); }
  renderQueue();
}

async function loadMine() {
  try { state.mine = (await api("GET", "/api/cases?mine=true&limit=100")).cases; } catch (e) { return handleAuth(e); }
  renderMine();
}

function handleAuth(e) {
  if (e.status === 401) showLogin(); else notice(errorText(e));
}

function card(c, extra) {
  const problem = c.summary && c.summary.problem ? c.summary.problem : c.category;
  const current = state.current && state.current.id === c.id;
  return el("li", { className: "card-item" },
    el("button", { type: "button", className: "card" + (current ? " current" : ""), "data-case-id": c.id,
      "aria-current": current ? "true" : null, onclick: () => openCase(c.id) },
      el("span", { className: "card-top" },
        el("span", { className: "number", text: c.number }),
        el("span", { className: "badge tier tier-" + c.tier, text: label("tiers", c.tier) }),
        el("span", { className: "badge status-" + c.status, text: label("statuses", c.status) })),
      el("span", { className: "card-problem", text: problem }),
      el("span", { className: "card-bottom" },
        el("span", { className: "lang-tag", text: (c.language || "").toUpperCase() }),
        extra || null,
        c.status === "resolved" || c.status === "closed" ? null  // no clock once the result is in
          : c.status === "queued" || c.status === "transferred" ? countdown(c.first_response_due) : countdown(c.result_due))));
}

function renderQueue() {
  const list = $("queue-list");
  clear(list);
  state.queue.forEach((c) => list.append(card(c)));
  $("queue-empty").hidden = state.queue.length > 0;
  $("queue-count").textContent = state.queue.length ? `(${state.queue.length})` : "";
}

function renderMine() {
  const list = $("mine-list");
  clear(list);
  const meId = state.me && state.me.id;
  state.mine.forEach((c) => {
    const roles = [];
    if (c.owner && c.owner.id === meId) roles.push(t("you_own"));
    const settled = c.status === "resolved" || c.status === "closed";
    if (c.handler && c.handler.id === meId) roles.push(t(settled ? "you_handled" : "you_handle"));
    list.append(card(c, el("span", { className: "role", text: roles.join(" · ") })));
  });
  $("mine-empty").hidden = state.mine.length > 0;
  $("mine-count").textContent = state.mine.length ? `(${state.mine.length})` : "";
}

async function loadStaff() {
  try { state.staff = (await api("GET", "/api/staff")).staff; } catch (e) { state.staff = []; }
}

async function loadPhrasing() {
  try { state.phrasing = await api("GET", "/api/phrasing"); } catch (e) { state.phrasing = null; }
}

// ------------------------------------------------------------------ the open case

async function openCase(id) {
  caseMessage("");
  $("reply-text").value = "";
  $("taboo-warning").hidden = true;
  try {
    const [c, tr, tl] = await Promise.all([
      api("GET", `/api/cases/${id}`),
      api("GET", `/api/cases/${id}/transcript`),
      api("GET", `/api/cases/${id}/timeline`),
    ]);
    state.current = c; state.transcript = tr; state.timeline = tl.events;
  } catch (e) { return handleAuth(e); }
  renderCase();
  renderQueue();
  renderMine();
  $("case-h").focus();
}

async function reloadCase() {
  if (!state.current) return;
  const id = state.current.id;
  try {
    const [c, tl] = await Promise.all([api("GET", `/api/cases/${id}`), api("GET", `/api/cases/${id}/timeline`)]);
    if (!state.current || state.current.id !== id) return;
    state.current = c; state.timeline = tl.events;
  } catch (e) { return handleAuth(e); }
  renderCase(true);
}

async function reloadTranscript() {
  if (!state.current) return;
  const id = state.current.id;
  let tr;
  try { tr = await api("GET", `/api/cases/${id}/transcript`); } catch (e) { return handleAuth(e); }
  if (!state.current || state.current.id !== id) return;
  state.transcript = tr;
  renderTranscript();
}

function canAct(c) {
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

function renderCase(keepInputs) {
  const c = state.current;
  $("case-view").hidden = !c;
  $("case-placeholder").hidden = !!c;
  if (!c) return;
  $("case-number").textContent = c.number;
  $("case-status").textContent = label("statuses", c.status);
  $("case-status").className = "badge status-" + c.status;
  $("case-tier").textContent = label("tiers", c.tier);
  $("case-tier").className = "badge tier tier-" + c.tier;

  const meta = $("case-meta");
  clear(meta);
  const row = (k, v) => meta.append(el("div", {}, el("dt", { text: t(k) }), el("dd", {}, v)));
  row("owner", c.owner ? `${c.owner.display_name} (${c.owner.username})` : t("none"));
  row("handler", c.handler ? `${c.handler.display_name} (${c.handler.username})` : (c.handler_team ? `${t("team")} ${c.handler_team}` : t("none")));
  row("category", c.category);
  row("language", c.language);
  row("channel", c.channel);
  row("created", fmtTime(c.created_at));
  row("first_response", countdown(c.sla.first_response.state === "met" ? null : c.sla.first_response.due, c.sla.first_response.state));
  row("result_due", countdown(c.sla.result.state === "met" ? null : c.sla.result.due, c.sla.result.state));

  const can = canAct(c);
  $("accept-btn").hidden = !can.accept;
  $("claim-btn").hidden = !can.claim;

  renderSummary(c);
  renderTranscript();
  renderPhrases(c);
  $("reply-text").disabled = !can.reply;
  $("reply-send").disabled = !can.reply;
  $("reply-hint").textContent = can.reply ? t("reply_ready") : t("reply_only_handler");
  $("note-text").disabled = !can.note;
  $("note-form").querySelector("button").disabled = !can.note;
  renderTransferTargets(c, can.transfer, keepInputs);
  $("resolve-result").disabled = !can.resolve;
  $("resolve-btn").disabled = !can.resolve;
  renderNotes();
  renderTimeline();
}

function renderSummary(c) {
  const dl = $("summary");
  clear(dl);
  const s = c.summary || {};
  const add = (k, v) => dl.append(el("div", {}, el("dt", { text: t(k) }), el("dd", {}, v)));
  add("problem", s.problem || c.description || t("none"));
  const collected = s.collected && typeof s.collected === "object" ? Object.entries(s.collected) : [];
  add("collected", collected.length
    ? el("ul", { className: "kv" }, collected.map(([k, v]) => el("li", {}, el("span", { className: "k", text: k + ": " }), typeof v === "object" ? JSON.stringify(v) : String(v))))
    : t("none"));
  const steps = Array.isArray(s.steps_tried) ? s.steps_tried : [];
  add("steps_tried", steps.length ? el("ol", { className: "steps" }, steps.map((x) => el("li", { text: x }))) : t("none"));
  add("emotion", s.emotion || t("none"));
  add("severity", s.severity || t("none"));
  add("language", c.language);
  if (s.reason) add("reason", s.reason);
  if (c.description && s.problem && c.description !== s.problem) add("description", c.description);
}

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
    item.kind === "agent" ? deliveryNode(item.delivery, item.message_id) : null);
}

function renderTranscript() {
  const tr = state.transcript || { rasa: { available: true }, items: [] };
  const list = $("transcript");
  clear(list);
  tr.items.forEach((i) => list.append(transcriptItem(i)));
  $("rasa-notice").hidden = tr.rasa.available;
  $("rasa-notice").textContent = tr.rasa.available ? "" : t("rasa_unavailable");
  list.scrollTop = list.scrollHeight;
}

function addMessage(m) {
  if (!state.transcript) return;
  if (state.transcript.items.some((i) => i.message_id === m.id)) return;
  const item = { source: "case", kind: m.direction, text: m.text, at: m.created_at, message_id: m.id, author: m.author, delivery: m.delivery };
  state.transcript.items.push(item);
  const list = $("transcript");
  list.append(transcriptItem(item));
  list.scrollTop = list.scrollHeight;
}

function updateDelivery(messageId, delivery) {
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

function renderPhrases(c) {
  const box = $("phrases");
  clear(box);
  if (!state.phrasing) return;
  const want = (c.language || "").startsWith("en") ? "en" : "zh";
  for (const g of state.phrasing.standard) {
    for (const p of g.phrases[want] || []) {
      box.append(el("button", { type: "button", className: "phrase", text: p, title: g.group, disabled: !canAct(c).reply,
        onclick: () => insertPhrase(p) }));
    }
  }
}

function insertPhrase(p) {
  const ta = $("reply-text");
  const start = ta.selectionStart ?? ta.value.length, end = ta.selectionEnd ?? ta.value.length;
  ta.value = ta.value.slice(0, start) + p + ta.value.slice(end);
  ta.focus();
  ta.setSelectionRange(start + p.length, start + p.length);
  scheduleTabooCheck();
}

function renderTransferTargets(c, enabled, keep) {
  const agentSel = $("transfer-agent"), teamSel = $("transfer-team");
  const prevAgent = keep ? agentSel.value : "", prevTeam = keep ? teamSel.value : "";
  clear(agentSel); clear(teamSel);
  agentSel.append(el("option", { value: "", text: t("no_agent") }));
  teamSel.append(el("option", { value: "", text: t("no_team") }));
  const teams = new Set();
  for (const s of state.staff) {
    if (s.role !== "agent" && s.role !== "supervisor") continue;
    if (s.team) teams.add(s.team);
    if (c.handler && s.id === c.handler.id) continue;
    agentSel.append(el("option", { value: s.username, text: `${s.display_name} (${s.username})${s.team ? " · " + s.team : ""}` }));
  }
  [...teams].sort().forEach((tm) => teamSel.append(el("option", { value: tm, text: tm })));
  agentSel.value = prevAgent; teamSel.value = prevTeam;
  for (const n of [agentSel, teamSel, $("transfer-note"), $("transfer-btn")]) n.disabled = !enabled;
}

function renderNotes() {
  const list = $("notes-list");
  clear(list);
  state.timeline.filter((e) => e.action === "note").forEach((e) => list.append(
    el("li", {}, el("span", { className: "who", text: e.actor_id || "" }), el("time", { text: fmtTime(e.at) }),
      el("p", { className: "text", text: (e.details && e.details.text) || "" }))));
}

function renderTimeline() {
  const list = $("timeline");
  clear(list);
  state.timeline.forEach((e) => {
    const status = e.status_from && e.status_from !== e.status_to
      ? `${label("statuses", e.status_from)} → ${label("statuses", e.status_to)}` : "";
    list.append(el("li", {},
      el("time", { text: fmtTime(e.at) }), " ",
      el("strong", { text: label("actions", e.action) }), " ",
      el("span", { className: "who", text: `${e.actor_kind}:${e.actor_id || ""}` }), " ",
      status ? el("span", { text: status }) : null,
      e.owner ? el("span", { className: "muted", text: ` ${t("owner")}: ${e.owner.username}` }) : null));
  });
}

// ------------------------------------------------------------------ actions

async function act(fn, okText) {
  caseMessage("");
  try {
    const out = await fn();
    if (okText) caseMessage(typeof okText === "function" ? okText(out) : okText, "ok");
    return out;
  } catch (e) {
    caseMessage(errorText(e), "error");
    if (e.code === "concurrent_change" || e.code === "case_already_taken" || e.code === "invalid_transition") {
      await reloadCase(); loadQueue(); loadMine();
      caseMessage(errorText(e), "error");
    }
    if (e.status === 401) showLogin();
    return null;
  }
}

$("accept-btn").addEventListener("click", async () => {
  const c = state.current;
  const out = await act(() => api("POST", `/api/cases/${c.id}/accept`), t("accepted"));
  if (out) { state.current = out; await reloadCase(); loadQueue(); loadMine(); caseMessage(t("accepted"), "ok"); }
});

$("claim-btn").addEventListener("click", async () => {
  const c = state.current;
  const out = await act(() => api("POST", `/api/cases/${c.id}/claim`), t("claimed"));
  if (out) { state.current = out; await reloadCase(); loadQueue(); loadMine(); caseMessage(t("claimed"), "ok"); }
});

$("reply-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const c = state.current;
  const text = $("reply-text").value;
  if (!text.trim()) { caseMessage(t("empty_text"), "error"); return; }
  $("reply-send").disabled = true;
  const m = await act(() => api("POST", `/api/cases/${c.id}/messages`, { text }));
  $("reply-send").disabled = !canAct(state.current).reply;
  if (m) { addMessage(m); $("reply-text").value = ""; $("taboo-warning").hidden = true; $("reply-text").focus(); }
});

$("reply-text").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); $("reply-form").requestSubmit(); }
});

let tabooTimer = null, tabooSeq = 0;
function scheduleTabooCheck() {
  clearTimeout(tabooTimer);
  tabooTimer = setTimeout(checkTaboo, 250);
}
async function checkTaboo() {
  const text = $("reply-text").value;
  const seq = ++tabooSeq;
  if (!text.trim()) { $("taboo-warning").hidden = true; return; }
  let out;
  try { out = await api("POST", "/api/phrasing/check", { text }); } catch (e) { return; }
  if (seq !== tabooSeq) return; // a newer check is on its way
  const warn = $("taboo-warning");
  if (out.taboos.length) {
    const list = [...new Set(out.taboos.map((x) => x.phrase))].map((p) => `「${p}」`).join(lang === "zh" ? "、" : ", ");
    warn.textContent = t("taboo_warning", { list });
    warn.hidden = false;
  } else {
    warn.hidden = true;
    warn.textContent = "";
  }
}
$("reply-text").addEventListener("input", scheduleTabooCheck);

$("note-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const c = state.current;
  const text = $("note-text").value;
  if (!text.trim()) { caseMessage(t("empty_text"), "error"); return; }
  const note = await act(() => api("POST", `/api/cases/${c.id}/notes`, { text }), t("note_added"));
  if (note) { $("note-text").value = ""; await reloadCase(); caseMessage(t("note_added"), "ok"); }
});

$("transfer-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const c = state.current;
  const agent = $("transfer-agent").value, team = $("transfer-team").value;
  if (!agent && !team) { caseMessage(t("pick_target"), "error"); return; }
  const body = agent ? { to_agent: agent } : { to_team: team };
  const note = $("transfer-note").value.trim();
  if (note) body.note = note;
  const out = await act(() => api("POST", `/api/cases/${c.id}/transfer`, body),
    (r) => t("transferred_ok", { owner: r.owner ? r.owner.username : t("none") }));
  if (out) {
    $("transfer-note").value = ""; $("transfer-agent").value = ""; $("transfer-team").value = "";
    const msg = $("case-message").textContent;
    await reloadCase(); loadQueue(); loadMine();
    caseMessage(msg, "ok");
  }
});

$("resolve-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const c = state.current;
  const result = $("resolve-result").value;
  if (!result.trim()) { caseMessage(t("need_result"), "error"); return; }
  const out = await act(() => api("POST", `/api/cases/${c.id}/resolve`, { result }), t("resolved_ok"));
  if (out) { $("resolve-result").value = ""; await reloadCase(); loadMine(); caseMessage(t("resolved_ok"), "ok"); }
});

// ------------------------------------------------------------------ live events

function setLive(on) {
  if (!state.me) { $("live").textContent = ""; return; }
  $("live").textContent = on ? t("live_on") : t("live_off");
  $("live").className = "live " + (on ? "on" : "off");
}

let refreshTimers = {};
function soon(name, fn) {
  clearTimeout(refreshTimers[name]);
  refreshTimers[name] = setTimeout(fn, 100);
}

function connect() {
  if (state.ws) return;
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/ws");
  state.ws = ws;
  ws.onopen = () => {
    state.wsRetry = 0;
    setLive(true);
    // anything missed while disconnected
    soon("queue", loadQueue); soon("mine", loadMine);
    if (state.current) { soon("case", reloadCase); soon("transcript", reloadTranscript); }
  };
  ws.onmessage = (msg) => {
    let ev;
    try { ev = JSON.parse(msg.data); } catch (e) { return; }
    onEvent(ev);
  };
  ws.onclose = () => {
    state.ws = null;
    setLive(false);
    if (!state.me) return;
    const wait = Math.min(15000, 500 * 2 ** state.wsRetry++);
    setTimeout(() => { if (state.me) connect(); }, wait);
  };
}

function onEvent(ev) {
  const cur = state.current;
  const isCurrent = (id) => cur && cur.id === id;
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
      if (isCurrent(ev.case_id)) soon("case", reloadCase);
      break;
    default:
      break;
  }
}

start();

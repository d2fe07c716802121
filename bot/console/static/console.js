// Agents' console: plain JS over the JSON API (/api). The token lives in sessionStorage.
"use strict";

const POLL_MESSAGES_MS = 3000;
const POLL_QUEUE_MS = 10000;
const ACTION_LABELS = {
  created: "创建工单", status: "状态变更", claimed: "认领", replied: "回复用户", note: "内部备注",
  released: "交还机器人", handoff_started: "暂停机器人", handoff_ended: "恢复机器人",
  auto_resumed: "超时未回复，机器人恢复", pause_failed: "暂停机器人失败", resume_failed: "恢复机器人失败",
  reply_not_delivered: "回复未送达", reply_failed: "回复发送失败", resume_notice_not_delivered: "恢复提示未送达",
  satisfaction_asked: "请用户评价", rated: "用户评价", rating_reason: "不满意的原因", rating_not_asked: "未能请用户评价",
};

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("console-token");
let current = null;       // the open ticket's id
let lastMessageId = 0;    // the newest message shown
let messageTimer = null;

async function api(method, path, body) {
  const options = { method, headers: { Authorization: "Bearer " + token } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const res = await fetch(path, options);
  const data = await res.json().catch(() => ({}));
  if (res.status === 401) { logout(false); throw new Error("登录已失效，请重新登录"); }
  if (!res.ok) {
    const error = new Error(data.error || ("请求失败（" + res.status + "）"));
    error.data = data;  // e.g. a reply the platform refused: {error, message: {delivery_label, delivery_error}}
    throw error;
  }
  return data;
}

function time(iso) {
  return iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false }) : "";
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  });
  children.forEach((c) => node.append(c));
  return node;
}

function showLogin() {
  $("login-view").hidden = false;
  $("console-view").hidden = true;
  $("logout-button").hidden = true;
  $("who").textContent = "";
}

async function showConsole() {
  const me = await api("GET", "/api/me");
  $("who").textContent = "当前客服：" + me.agent;
  $("login-view").hidden = true;
  $("console-view").hidden = false;
  $("logout-button").hidden = false;
  await startArrivals();  // before the queue: a ticket opened while it loads is announced, not missed
  await loadQueue();
  searchCanned();
}

function logout(callServer) {
  if (callServer && token) api("POST", "/api/logout").catch(() => {});
  token = null;
  sessionStorage.removeItem("console-token");
  clearInterval(messageTimer);
  stopArrivals();
  current = null;
  showLogin();
}

function loginError(res, data) {
  if (res.status === 401) return "账号或密码错误";
  if (res.status === 429) {
    const minutes = Math.max(1, Math.ceil(Number(res.headers.get("Retry-After") || 60) / 60));
    return "登录失败次数过多，请 " + minutes + " 分钟后再试";
  }
  return data.error || "登录失败";
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  const res = await fetch("/api/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: $("login-name").value, password: $("login-password").value }),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) { $("login-error").textContent = loginError(res, data); return; }
  token = data.token;
  sessionStorage.setItem("console-token", token);
  $("login-password").value = "";
  await showConsole();
});
$("logout-button").addEventListener("click", () => logout(true));

async function loadQueue() {
  const params = new URLSearchParams();
  [["status", "filter-status"], ["severity", "filter-severity"], ["assignee", "filter-assignee"], ["q", "filter-q"]]
    .forEach(([key, id]) => { if ($(id).value) params.set(key, $(id).value); });
  const data = await api("GET", "/api/tickets?" + params);
  const rows = $("ticket-rows");
  rows.replaceChildren(...data.tickets.map((t) => {
    const row = el("tr", { class: "ticket-row" + (t.id === current ? " selected" : ""), "data-id": t.id },
      el("td", {}, t.id), el("td", {}, t.title),
      el("td", { class: t.severity === "urgent" ? "urgent" : "" }, t.severity_label),
      el("td", {}, t.status_label), clockCell(t), el("td", {}, t.assignee || "—"), el("td", {}, time(t.created_at)));
    row.addEventListener("click", () => openTicket(t.id));
    return row;
  }));
  $("queue-empty").hidden = data.tickets.length > 0;
}
function clockCell(t) {
  const waiting = el("span", { class: "waiting" });
  setClock(waiting, t, false);
  const allowance = el("span", { class: "window" });
  // The list shows only windows that close (WeChat); the ticket also says when none applies (WeCom).
  setWindow(allowance, t.reply_window && t.reply_window.limited ? t : {});
  return el("td", { class: "clock" }, waiting, allowance);
}

$("filters").addEventListener("submit", (event) => { event.preventDefault(); loadQueue().catch(showError); });

function showError(error) {
  const refused = error.data && error.data.message;
  $("action-error").textContent = refused && refused.delivery_label
    ? refused.delivery_label + "：" + (refused.delivery_error || "") : error.message;
}

function renderHead(t) {
  $("ticket-status").textContent = t.status_label;
  $("ticket-severity").textContent = t.severity_label;
  $("ticket-assignee").textContent = t.assignee || "未认领";
  $("ticket-paused").textContent = t.bot_paused ? "（机器人已暂停，由客服接待）" : "（机器人接待中）";
  // The label comes from the API (data/knowledge/console.yml); the reason is in the history.
  $("ticket-rating").textContent = t.satisfaction_label ? "用户评价：" + t.satisfaction_label : "";
  setClock($("ticket-waiting"), t, true);
  setWindow($("ticket-window"), t);
}

function addMessages(messages) {
  const list = $("messages");
  messages.forEach((m) => {
    if (m.id <= lastMessageId) return;
    const who = m.author === "user" ? "用户" : m.author === "agent" ? "客服 " + (m.agent || "") : "机器人";
    const item = el("li", { class: m.author + (m.delivery_label ? " undelivered" : ""), "data-id": String(m.id) },
      el("span", { class: "meta" }, who + " · " + time(m.at)), m.text);
    // The labels and reasons come from the API (data/knowledge/console.yml); shown as text, never HTML.
    if (m.delivery_label) item.append(el("span", { class: "delivery" }, m.delivery_label + "：" + (m.delivery_error || "")));
    list.append(item);
    lastMessageId = Math.max(lastMessageId, m.id);
  });
  list.scrollTop = list.scrollHeight;
}

function renderEvents(events) {
  $("events").replaceChildren(...events.map((e) => el("li", {},
    time(e.at) + " " + e.actor + " " + (ACTION_LABELS[e.action] || e.action) + (e.detail ? "：" + e.detail : ""))));
}

// The server labels the facts (data/knowledge/console_facts.yml): one line per fact, plain values.
function renderFacts(factList) {
  const list = factList || { items: [], checks: [] };
  const rows = [];
  list.items.forEach((item) => {
    const values = item.values.length === 1 ? item.values[0]
      : el("ul", { class: "fact-values" }, ...item.values.map((v) => el("li", {}, v)));
    rows.push(el("dt", { "data-key": item.key }, item.label), el("dd", {}, values));
  });
  $("ticket-facts").replaceChildren(...rows);
  $("ticket-facts-empty").hidden = list.items.length > 0;
  $("ticket-checks").replaceChildren(...list.checks.map((c) => el("li", {}, c)));
  $("ticket-checks-empty").hidden = list.checks.length > 0;
}

async function openTicket(id) {
  $("action-error").textContent = "";
  forgetArrival(id);
  const t = await api("GET", "/api/tickets/" + encodeURIComponent(id));
  current = t.id;
  lastMessageId = 0;
  $("ticket").hidden = false;
  $("ticket-id").textContent = t.id;
  $("ticket-title").textContent = t.title;
  $("ticket-user").textContent = t.channel + " / " + t.sender_id;
  $("ticket-description").textContent = t.description;
  $("ticket-category").textContent = t.category_label || t.category;
  renderHead(t);
  renderFacts(t.fact_list);
  renderEvents(t.events);
  $("messages").replaceChildren();
  addMessages(t.transcript);
  document.querySelectorAll("tr.ticket-row").forEach((r) => r.classList.toggle("selected", r.dataset.id === t.id));
  clearInterval(messageTimer);
  messageTimer = setInterval(() => pollMessages().catch(showError), POLL_MESSAGES_MS);
}

async function pollMessages() {
  const asked = current;
  if (!asked) return;
  const data = await api("GET", "/api/tickets/" + encodeURIComponent(asked) + "/messages?after=" + lastMessageId);
  if (asked !== current) return;  // the agent opened another ticket meanwhile: this answer is not its
  addMessages(data.messages);
  renderHead(data.ticket);
}

async function refreshTicket() {
  const t = await api("GET", "/api/tickets/" + encodeURIComponent(current));
  renderHead(t);
  renderEvents(t.events);
  addMessages(t.transcript);
  await loadQueue();
}

async function act(path, body) {
  $("action-error").textContent = "";
  try {
    await api("POST", "/api/tickets/" + encodeURIComponent(current) + path, body);
    await refreshTicket();
  } catch (error) {
    showError(error);
    await refreshTicket().catch(() => {});
  }
}

$("claim-button").addEventListener("click", () => act("/claim"));
$("release-button").addEventListener("click", () => act("/release"));
document.querySelectorAll("[data-status]").forEach((button) =>
  button.addEventListener("click", () => act("/status", { status: button.dataset.status })));

$("reply-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("reply-text").value.trim();
  if (!text) return;
  $("reply-button").disabled = true;
  await act("/reply", { text });
  if (!$("action-error").textContent) $("reply-text").value = "";
  $("reply-button").disabled = false;
});

$("note-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("note-text").value.trim();
  if (!text) return;
  await act("/notes", { text });
  if (!$("action-error").textContent) $("note-text").value = "";
});

setInterval(() => { if (token && !$("console-view").hidden) loadQueue().catch(() => {}); }, POLL_QUEUE_MS);

if (token) showConsole().catch(() => logout(false)); else showLogin();

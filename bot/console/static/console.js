// Agents' console: plain JS over the JSON API (/api), after common.js (header, login, api()).
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

let current = null;       // the open ticket's id
let lastMessageId = 0;    // the newest message shown
let messageTimer = null;

async function openConsole() {
  await startArrivals();  // before the queue: a ticket opened while it loads is announced, not missed
  await loadQueue();
  searchCanned();
}

function closeConsole() {
  clearInterval(messageTimer);
  stopArrivals();
  current = null;
}

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
    row.addEventListener("click", () => openTicket(t.id).catch(showError));
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

// A reply the platform refused is 502 {error, message: {delivery_label, delivery_error}}: say why.
function showError(error) {
  const refused = error.data && error.data.message;
  if (refused && refused.delivery_label) $("action-error").textContent = refused.delivery_label + "：" + (refused.delivery_error || "");
  else pageError(error);
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
  } catch (error) {
    showError(error);
    if (error.status !== 401) await refreshTicket().catch(() => {});
    return false;
  }
  await refreshTicket().catch(showError);
  return true;
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
  if (await act("/reply", { text })) $("reply-text").value = "";  // kept when refused, to send another way
  $("reply-button").disabled = false;
});

$("note-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("note-text").value.trim();
  if (!text) return;
  if (await act("/notes", { text })) $("note-text").value = "";
});

setInterval(() => { if (token && !$("console-view").hidden) loadQueue().catch(() => {}); }, POLL_QUEUE_MS);

startPage({ view: "console-view", errorBox: "action-error", open: openConsole, close: closeConsole });

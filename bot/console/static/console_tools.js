// Agents' console, the tools beside the tickets: waiting clocks and the 48-hour window, new-ticket
// notices, canned replies. Loaded after common.js (api(), el()) and before console.js, whose
// loadQueue() and openTicket() these call once the page runs.
"use strict";

const CLOCK_TICK_MS = 1000;
const POLL_ARRIVALS_MS = 4000;
const ARRIVALS_OVERLAP_MS = 60000;  // a ticket is timed before it commits: ask again from a minute back
const CANNED_DEBOUNCE_MS = 250;
const PAGE_TITLE = document.title;

// ---------------------------------------------------------------- clocks

function durationText(ms) {
  const minutes = Math.floor(Math.max(0, ms) / 60000);
  if (minutes < 1) return "不到1分钟";
  if (minutes < 60) return minutes + "分钟";
  const hours = Math.floor(minutes / 60);
  // Hours up to three days: the 48-hour window reads best in hours.
  if (hours < 72) return hours + "小时" + (minutes % 60 ? (minutes % 60) + "分钟" : "");
  return Math.floor(hours / 24) + "天" + (hours % 24 ? (hours % 24) + "小时" : "");
}

// A clock element keeps its moment in data-since (waiting) or data-window (reply window); the
// tick rewrites the text from the browser's clock, so the figures move between polls.
function waitingText(since, long) {
  if (!since) return long ? "用户没有在等待（已回复或已结束）" : "—";
  return (long ? "用户已等待 " : "") + durationText(Date.now() - new Date(since).getTime());
}

function windowClosed(allowance) {
  return !!allowance && allowance.limited && new Date(allowance.ends_at).getTime() <= Date.now();
}

function windowText(allowance) {
  if (!allowance) return "";
  if (!allowance.limited) return "企业微信应用消息：不受48小时限制";
  if (windowClosed(allowance)) return "已超过" + allowance.hours + "小时，无法主动发送";
  const left = new Date(allowance.ends_at).getTime() - Date.now();
  return allowance.hours + "小时内可主动发送，剩余 " + durationText(left);
}

function setClock(node, ticket, long) {
  node.dataset.since = ticket.waiting_since || "";
  node.dataset.long = long ? "1" : "";
  node.textContent = waitingText(ticket.waiting_since, long);
}

function setWindow(node, ticket) {
  const allowance = ticket.reply_window || null;
  node.dataset.window = allowance ? JSON.stringify(allowance) : "";
  node.textContent = windowText(allowance);
  node.classList.toggle("window-closed", windowClosed(allowance));
  node.hidden = !allowance;
}

function tickClocks() {
  document.querySelectorAll("[data-since]").forEach((node) => {
    node.textContent = waitingText(node.dataset.since, node.dataset.long === "1");
  });
  document.querySelectorAll("[data-window]").forEach((node) => {
    if (!node.dataset.window) return;
    const allowance = JSON.parse(node.dataset.window);
    node.textContent = windowText(allowance);
    node.classList.toggle("window-closed", windowClosed(allowance));
  });
}
setInterval(tickClocks, CLOCK_TICK_MS);

// ---------------------------------------------------------------- new tickets

let arrivalsFrom = null;   // the server's time when the page started watching
let arrivalsNow = null;    // the server's time of the last answer
let arrivalsTimer = null;
const announced = new Map();  // id -> ticket, shown in the notice until dismissed or opened
const seenArrivals = new Set();

function renderArrivals() {
  const notice = document.getElementById("arrival-notice");
  notice.hidden = announced.size === 0;
  document.title = announced.size ? "（" + announced.size + "）新工单 · " + PAGE_TITLE : PAGE_TITLE;
  document.getElementById("arrival-count").textContent = "新工单 " + announced.size + " 张：";
  document.getElementById("arrival-list").replaceChildren(...[...announced.values()].map((t) => {
    const open = el("button", { type: "button", class: "arrival", "data-id": t.id },
      t.id + " " + t.title + (t.severity === "urgent" ? "（紧急）" : ""));
    open.addEventListener("click", () => { forgetArrival(t.id); openTicket(t.id).catch(showError); });
    return el("li", {}, open);
  }));
}

function forgetArrival(id) {
  if (announced.delete(id)) renderArrivals();
}

async function pollArrivals() {
  const since = new Date(new Date(arrivalsNow).getTime() - ARRIVALS_OVERLAP_MS).toISOString();
  const data = await api("GET", "/api/ticket-arrivals?since=" + encodeURIComponent(since));
  arrivalsNow = data.now;
  const fresh = data.tickets.filter((t) => !seenArrivals.has(t.id) && new Date(t.created_at) >= new Date(arrivalsFrom));
  fresh.forEach((t) => { seenArrivals.add(t.id); announced.set(t.id, t); });
  if (fresh.length) {
    renderArrivals();
    await loadQueue();
  }
}

async function startArrivals() {
  clearInterval(arrivalsTimer);
  const data = await api("GET", "/api/ticket-arrivals");
  arrivalsFrom = arrivalsNow = data.now;
  arrivalsTimer = setInterval(() => { if (token) pollArrivals().catch(() => {}); }, POLL_ARRIVALS_MS);
}

function stopArrivals() {
  clearInterval(arrivalsTimer);
  announced.clear();
  renderArrivals();
}

document.getElementById("arrival-dismiss").addEventListener("click", () => { announced.clear(); renderArrivals(); });

// ---------------------------------------------------------------- canned replies

let cannedTimer = null;
let cannedAsked = 0;  // answers to older searches that arrive late are dropped

function insertIntoReply(text) {
  const box = document.getElementById("reply-text");
  const start = box.selectionStart ?? box.value.length;
  const end = box.selectionEnd ?? start;
  const before = box.value.slice(0, start);
  const joined = before && !before.endsWith("\n") ? "\n" + text : text;
  box.setRangeText(joined, start, end, "end");
  box.focus();
}

function renderCanned(replies, q) {
  const list = document.getElementById("canned-list");
  list.dataset.q = q;  // which search the list shows
  list.replaceChildren(...replies.map((r) => {
    const insert = el("button", { type: "button", class: "canned-insert", "data-id": r.id }, "插入");
    insert.addEventListener("click", () => insertIntoReply(r.text));
    return el("li", { class: "canned-reply", "data-id": r.id },
      el("div", { class: "canned-head" }, el("b", {}, r.title), el("span", { class: "canned-source" }, r.source_label), insert),
      el("div", { class: "canned-text" }, r.text));
  }));
  document.getElementById("canned-empty").hidden = replies.length > 0;
}

async function searchCanned() {
  const asked = ++cannedAsked;
  const q = document.getElementById("canned-q").value.trim();
  document.getElementById("canned-error").textContent = "";
  try {
    const data = await api("GET", "/api/canned-replies?" + new URLSearchParams({ q, limit: "30" }));
    if (asked === cannedAsked) renderCanned(data.replies, data.q);
  } catch (error) {
    if (asked === cannedAsked) pageError(error, "canned-error");
  }
}

document.getElementById("canned-q").addEventListener("input", () => {
  clearTimeout(cannedTimer);
  cannedTimer = setTimeout(searchCanned, CANNED_DEBOUNCE_MS);
});

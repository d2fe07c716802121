// The learning loop's review page: the not-understood messages in groups (GET /api/review/groups),
// labelled with an intent or a FAQ answer, or dismissed. Same login and token as the console.
"use strict";

const $ = (id) => document.getElementById(id);
const REASONS = { fallback: "未识别", out_of_scope_near_domain: "疑似业务相关的超范围问题", clarification_declined: "澄清后未选择" };
const STATUS_WORDS = { labelled: "已标注", dismissed: "已忽略" };
let token = sessionStorage.getItem("console-token");
let labels = [];  // [{label, kind, title}]
let shown = null; // the query of the list on the page: a verdict is given on that list's groups

async function api(method, path, body) {
  const options = { method, headers: { Authorization: "Bearer " + token } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const res = await fetch(path, options);
  const data = await res.json().catch(() => ({}));
  if (res.status === 401) { logout(false); throw new Error("登录已失效，请重新登录"); }
  if (!res.ok) throw new Error(data.error || ("请求失败（" + res.status + "）"));
  return data;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => { if (k === "class") node.className = v; else node.setAttribute(k, v); });
  children.forEach((c) => node.append(c));
  return node;
}

function time(iso) {
  return iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false }) : "";
}

function localDate(date) {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 10);
}

function showLogin() {
  $("login-view").hidden = false;
  $("review-view").hidden = true;
  $("logout-button").hidden = true;
  $("who").textContent = "";
}

function logout(callServer) {
  if (callServer && token) fetch("/api/logout", { method: "POST", headers: { Authorization: "Bearer " + token } }).catch(() => {});
  token = null;
  sessionStorage.removeItem("console-token");
  showLogin();
}

async function showReview() {
  const me = await api("GET", "/api/me");
  $("who").textContent = "当前客服：" + me.agent;
  $("login-view").hidden = true;
  $("review-view").hidden = false;
  $("logout-button").hidden = false;
  labels = (await api("GET", "/api/review/labels")).labels;
  if (!$("review-to").value) {
    const today = new Date();
    $("review-to").value = localDate(today);
    $("review-from").value = localDate(new Date(today.getTime() - 6 * 86400000));
  }
  await load();
}

function labelSelect() {
  const select = el("select", { class: "review-label", "aria-label": "标注为" }, el("option", { value: "" }, "选择意图或知识库答案…"));
  const intents = el("optgroup", { label: "意图" });
  const answers = el("optgroup", { label: "知识库答案" });
  labels.forEach((l) => {
    const option = el("option", { value: l.label }, l.kind === "faq" ? l.title + "（" + l.label + "）" : l.label);
    (l.kind === "faq" ? answers : intents).append(option);
  });
  select.append(intents, answers);
  return select;
}

function groupItem(g) {
  const others = g.texts.filter((t) => t.text !== g.text);
  const reasons = Object.entries(g.reasons).map(([r, n]) => (REASONS[r] || r) + " " + n).join("，");
  const item = el("li", { class: "review-group", "data-id": g.id },
    el("div", { class: "review-head" }, el("span", { class: "review-count" }, "×" + g.count), el("span", { class: "review-text" }, g.text)),
    el("div", { class: "review-meta" }, reasons + "　最近：" + time(g.last_at)));
  if (others.length) {
    item.append(el("ul", { class: "review-others" }, ...others.map((t) => el("li", {}, t.text + (t.count > 1 ? "（×" + t.count + "）" : "")))));
  }
  const first = g.messages[0];
  if (first.status !== "open") {
    item.append(el("div", { class: "review-verdict" },
      STATUS_WORDS[first.status] + (first.label ? "：" + first.label : "") + "　" + (first.agent || "") + " " + time(first.decided_at)));
  }
  const select = labelSelect();
  const label = el("button", { type: "button", class: "review-apply" }, first.status === "labelled" ? "改为此标注" : "标注");
  const dismiss = el("button", { type: "button", class: "review-dismiss" }, "忽略");
  label.addEventListener("click", () => {
    if (!select.value) { $("review-error").textContent = "请先选择意图或知识库答案"; return; }
    decide(g, "label", { label: select.value }, "已将 " + g.count + " 条标注为 " + select.value);
  });
  dismiss.addEventListener("click", () => decide(g, "dismiss", undefined, "已忽略 " + g.count + " 条"));
  const actions = el("div", { class: "review-actions" }, select, label);
  if (first.status !== "dismissed") actions.append(dismiss);
  item.append(actions);
  return item;
}

async function load() {
  $("review-error").textContent = "";
  const query = new URLSearchParams({ from: $("review-from").value, to: $("review-to").value,
    status: $("review-status").value, sort: $("review-sort").value });
  const data = await api("GET", "/api/review/groups?" + query);
  shown = query;
  $("review-groups").replaceChildren(...data.groups.map(groupItem));
  $("review-empty").hidden = data.groups.length > 0;
}

async function decide(group, verdict, body, done) {
  $("review-error").textContent = "";
  $("review-notice").textContent = "";
  try {
    const params = new URLSearchParams({ from: shown.get("from"), to: shown.get("to"), status: shown.get("status") });
    await api("POST", "/api/review/groups/" + encodeURIComponent(group.id) + "/" + verdict + "?" + params, body);
    await load();
    $("review-notice").textContent = done;
  } catch (error) {
    $("review-error").textContent = error.message;
  }
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  const res = await fetch("/api/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: $("login-name").value, password: $("login-password").value }),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    $("login-error").textContent = res.status === 401 ? "账号或密码错误" : (res.status === 429 ? "登录失败次数过多，请稍后再试" : data.error || "登录失败");
    return;
  }
  token = data.token;
  sessionStorage.setItem("console-token", token);
  $("login-password").value = "";
  await showReview().catch((e) => { $("review-error").textContent = e.message; });
});
$("logout-button").addEventListener("click", () => logout(true));
$("review-filters").addEventListener("submit", (event) => {
  event.preventDefault();
  load().catch((e) => { $("review-error").textContent = e.message; });
});

if (token) showReview().catch(() => showLogin()); else showLogin();

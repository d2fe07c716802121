// What the console's pages share (/, /dashboard, /review): the header, the agent's login and
// session, and the API calls with its token. Loaded before each page's own script, which calls
// startPage() once. The token lives in sessionStorage, so one login serves every page of the tab;
// it travels in the Authorization header, never in a cookie, so no CSRF token is needed.
"use strict";

const TOKEN_KEY = "console-token";
const PAGES = [["console-link", "/", "客服工作台"], ["dashboard-link", "/dashboard", "数据看板"], ["review-link", "/review", "待学习"]];
const SESSION_ENDED = "登录已失效，请重新登录";
const UNREACHABLE = "无法连接工作台，请检查网络后重试";
// The API's reasons are English, for developers: agents read a Chinese sentence first.
const REFUSALS = {
  400: "请求内容有误", 403: "没有权限执行此操作", 404: "没有找到要操作的内容",
  409: "工单已由其他客服处理或状态已变化，请刷新后再试", 413: "内容过长", 429: "操作过于频繁，请稍后再试",
  500: "工作台出错，请稍后再试", 502: "暂时连接不上机器人服务，请稍后再试",
};

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem(TOKEN_KEY);
let page = null;  // what startPage() was given

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => { if (k === "class") node.className = v; else node.setAttribute(k, v); });
  children.forEach((c) => node.append(c));
  return node;
}

function time(iso) {
  return iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false }) : "";
}

function refusalText(status, data) {
  const said = REFUSALS[status] || "请求失败（" + status + "）";
  return data.error ? said + "：" + data.error : said;
}

// A 401 ends the session and shows the login form saying so; any other refusal throws an Error
// whose message is Chinese, with the API's answer in error.data.
async function api(method, path, body) {
  const sent = token;
  const options = { method, headers: { Authorization: "Bearer " + sent } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, options);
  } catch {
    throw new Error(UNREACHABLE);
  }
  const data = await res.json().catch(() => ({}));
  if (res.status === 401) {
    if (token === sent) endSession(SESSION_ENDED);  // not a newer login's session: a late answer to an old one
    throw Object.assign(new Error(SESSION_ENDED), { status: 401, data });
  }
  if (!res.ok) throw Object.assign(new Error(refusalText(res.status, data)), { status: res.status, data });
  return data;
}

// Writes the error into the page's error box; an ended session is told on the login form instead.
function pageError(error, box) {
  if (error.status === 401) return;
  $(box || page.errorBox).textContent = error.message;
}

function renderHeader() {
  const header = document.querySelector("body > header");
  PAGES.filter(([, href]) => href !== location.pathname)
    .forEach(([id, href, text]) => header.append(el("a", { id, href }, text)));
  const logout = el("button", { id: "logout-button", type: "button", hidden: "" }, "退出登录");
  logout.addEventListener("click", logOut);
  header.append(el("span", { id: "who" }), logout);
}

function renderLogin() {
  const form = el("form", { id: "login-form" }, el("h2", {}, "客服登录"),
    el("label", {}, "账号 ", el("input", { id: "login-name", autocomplete: "username", required: "" })),
    el("label", {}, "密码 ", el("input", { id: "login-password", type: "password", autocomplete: "current-password", required: "" })),
    el("button", { id: "login-button", type: "submit" }, "登录"),
    el("p", { id: "login-error", class: "error", role: "alert" }));
  form.addEventListener("submit", logIn);
  $("login-view").replaceChildren(form);
}

function showLogin(message) {
  $("login-view").hidden = false;
  $(page.view).hidden = true;
  $("logout-button").hidden = true;
  $("who").textContent = "";
  $("login-error").textContent = message || "";
}

function endSession(message) {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  if (page.close) page.close();
  showLogin(message);
}

function logOut() {
  if (token) api("POST", "/api/logout").catch(() => {});
  endSession("");
}

function loginError(res, data) {
  if (res.status === 401) return "账号或密码错误";
  if (res.status === 429) {
    const minutes = Math.max(1, Math.ceil(Number(res.headers.get("Retry-After") || 60) / 60));
    return "登录失败次数过多，请 " + minutes + " 分钟后再试";
  }
  return refusalText(res.status, data);
}

async function logIn(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  let res;
  try {
    res = await fetch("/api/login", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: $("login-name").value, password: $("login-password").value }),
    });
  } catch {
    $("login-error").textContent = UNREACHABLE;
    return;
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) { $("login-error").textContent = loginError(res, data); return; }
  token = data.token;
  sessionStorage.setItem(TOKEN_KEY, token);
  $("login-password").value = "";
  await enter();
}

// Who is logged in, then the page's own view and its first load.
async function enter() {
  let me;
  try {
    me = await api("GET", "/api/me");
  } catch (error) {
    showLogin(error.message);
    return;
  }
  $("who").textContent = "当前客服：" + me.agent;
  $("login-view").hidden = true;
  $(page.view).hidden = false;
  $("logout-button").hidden = false;
  try {
    await page.open();
  } catch (error) {
    pageError(error);
  }
}

// config: {view, errorBox, open (async, after login), close (when the session ends; optional)}.
function startPage(config) {
  page = config;
  renderHeader();
  renderLogin();
  if (token) enter(); else showLogin();
}

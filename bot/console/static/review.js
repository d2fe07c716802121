// The learning loop's review page: the not-understood messages in groups (GET /api/review/groups),
// labelled with an intent or a FAQ answer, or dismissed. Header, login and api() from common.js.
"use strict";

const REASONS = { fallback: "未识别", out_of_scope_near_domain: "疑似业务相关的超范围问题", clarification_declined: "澄清后未选择" };
const STATUS_WORDS = { labelled: "已标注", dismissed: "已忽略" };
let labels = [];  // [{label, kind, title}]
let shown = null; // the query of the list on the page: a verdict is given on that list's groups

function localDate(date) {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 10);
}

async function openReview() {
  // The last 7 days by default, set before anything is awaited and each only when empty: a date the
  // agent typed while the labels were loading is kept (setting both later overwrote a typed start).
  const today = new Date();
  if (!$("review-to").value) $("review-to").value = localDate(today);
  if (!$("review-from").value) $("review-from").value = localDate(new Date(today.getTime() - 6 * 86400000));
  labels = (await api("GET", "/api/review/labels")).labels;
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
    pageError(error);
  }
}

$("review-filters").addEventListener("submit", (event) => {
  event.preventDefault();
  load().catch(pageError);
});

startPage({ view: "review-view", errorBox: "review-error", open: openReview });

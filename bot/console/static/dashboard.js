// The figures' dashboard: GET /api/analytics/summary for a period and a channel, drawn by
// dashboard_charts.js; header, login and api() from common.js, as on the console.
"use strict";

let figures = null;  // the last summary shown
let asked = 0;       // the newest request: an older answer arriving late is dropped

async function openDashboard() {
  $("no-charts").hidden = DashboardCharts.available();
  DashboardCharts.setLabels(await api("GET", "/api/dashboard/labels").catch(() => ({})));  // codes shown as they are without
  await load(true);
}

// The first load asks for the API's default period (the last 7 days in the working time zone)
// and fills the date inputs from its answer; later loads send what the inputs say.
async function load(first) {
  const params = new URLSearchParams();
  if (!first) {
    const from = $("range-from").value, to = $("range-to").value;
    if (!from || !to) { pageError(new Error("请选择开始和结束日期")); return; }
    if (from > to) { pageError(new Error("开始日期不能晚于结束日期")); return; }
    params.set("from", from);
    params.set("to", to);
  }
  if ($("range-channel").value) params.set("channel", $("range-channel").value);
  const mine = ++asked;
  const data = await api("GET", "/api/analytics/summary?" + params);
  if (mine !== asked) return;
  $("dashboard-error").textContent = "";
  figures = data;
  $("range-from").value = data.from;
  $("range-to").value = data.to;
  draw(data);
}

function stampOf(data) { return data.from + ".." + data.to + "|" + (data.channel || ""); }

function draw(data) {
  const stamp = stampOf(data);
  const reply = data.first_agent_reply_seconds || {};
  const shown = {
    conversations: data.conversations, user_turns: data.user_turns,
    resolution_rate: DashboardCharts.percent(data.resolution_rate),
    handoff_rate: DashboardCharts.percent(data.handoff_rate),
    no_answer_rate: DashboardCharts.percent(data.no_answer_rate),
    clarification_rate: DashboardCharts.percent(data.clarification.success_rate),
    tickets_opened: data.tickets_opened,
    first_reply_median: reply.median === null || reply.median === undefined ? "—" : minutes(reply.median),
    handoffs_timed_out: data.handoffs_timed_out,
  };
  document.querySelectorAll("#headline [data-figure]").forEach((node) => {
    node.textContent = String(shown[node.dataset.figure]);
  });
  const channel = $("range-channel").selectedOptions[0].textContent;
  $("range-shown").textContent = data.from + " 至 " + data.to + " · " + channel;

  DashboardCharts.trend("chart-trend", data.daily, stamp);
  fillWalks(data.walks);
  drawFunnel(stamp);
  DashboardCharts.satisfaction("chart-satisfaction", data.satisfaction, data.ticket_satisfaction, stamp);
  DashboardCharts.ranking("chart-unanswered", data.top_unanswered || [], (r) => r.text, stamp);
  DashboardCharts.ranking("chart-intents", data.top_intents, (r) => DashboardCharts.name("intents", r.intent), stamp);
  DashboardCharts.ranking("chart-faq", data.top_faq_answers, (r) => DashboardCharts.name("faq_answers", r.answer), stamp);
  $("headline").dataset.drawn = stamp;
}

function minutes(seconds) {
  return seconds < 60 ? Math.round(seconds) + " 秒" : (Math.round(seconds / 6) / 10) + " 分钟";
}

// The walk selector keeps its choice while that walk still has runs in the period.
function fillWalks(walks) {
  const select = $("walk-select");
  const kept = select.value;
  select.replaceChildren(...Object.keys(walks).map((name) => {
    const option = document.createElement("option");
    option.value = name;
    option.textContent = DashboardCharts.name("walks", name);
    return option;
  }));
  if (kept && walks[kept]) select.value = kept;
  select.hidden = Object.keys(walks).length === 0;
}

function drawFunnel(stamp) {
  const walk = figures.walks[$("walk-select").value];
  $("walk-summary").textContent = walk
    ? `开始 ${walk.started} 次，完成 ${walk.completed} 次，完成率 ${DashboardCharts.percent(walk.completion_rate)}`
    : "所选期间没有引导流程";
  DashboardCharts.funnel("chart-funnel", walk, stamp + "|" + ($("walk-select").value || ""));
}

$("walk-select").addEventListener("change", () => { if (figures) drawFunnel(stampOf(figures)); });
$("range").addEventListener("submit", (event) => { event.preventDefault(); load(false).catch(pageError); });
["range-from", "range-to", "range-channel"].forEach((id) => {
  $(id).addEventListener("change", () => load(false).catch(pageError));
});
window.addEventListener("resize", () => DashboardCharts.resize());

startPage({ view: "dashboard-view", errorBox: "dashboard-error", open: openDashboard });

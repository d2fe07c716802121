// The dashboard's charts: the figures of GET /api/analytics/summary as Apache ECharts options
// (SVG renderer, no animation), or as lines of text when ECharts is not installed.
"use strict";

const DashboardCharts = (() => {
  const RATING_LABELS = { satisfied: "满意", neutral: "一般", dissatisfied: "不满意" };
  // The names of the figures' codes (GET /api/dashboard/labels); a code without one is shown as it is.
  let labels = { intents: {}, walks: {}, steps: {}, faq_answers: {} };
  const name = (kind, code) => labels[kind][code] || code;
  const charts = {};
  const available = () => typeof window.echarts !== "undefined";

  function percent(rate) {
    return rate === null || rate === undefined ? "—" : (Math.round(rate * 1000) / 10) + "%";
  }
  function short(text, length) {
    return text.length > length ? text.slice(0, length) + "…" : text;
  }

  // Draws `option` into the element `id`, or `lines` ([label, value] pairs) as text without ECharts.
  // `stamp` (the period shown) goes on the element once drawn, for whoever waits for a redraw.
  function draw(id, option, lines, stamp) {
    const node = document.getElementById(id);
    if (available()) {
      if (!charts[id]) charts[id] = window.echarts.init(node, null, { renderer: "svg" });
      option.series.forEach((series) => { series.barMaxWidth = series.barMaxWidth || 32; });
      charts[id].setOption(Object.assign({ animation: false, textStyle: { fontFamily: "sans-serif" } }, option), true);
    } else {
      const list = document.createElement("ul");
      list.className = "figure-lines";
      lines.forEach(([label, value]) => {
        const item = document.createElement("li");
        item.textContent = label + "：" + value;
        list.append(item);
      });
      if (!lines.length) list.textContent = "无数据";
      node.replaceChildren(list);
    }
    node.dataset.drawn = stamp;
  }

  const tooltip = { trigger: "axis", renderMode: "richText" };  // richText: no HTML with inline styles (CSP)
  const empty = (rows) => (rows.length ? undefined : { text: "无数据", left: "center", top: "middle",
    textStyle: { fontSize: 14, color: "#889" } });

  function trend(id, daily, stamp) {
    const days = daily.map((d) => d.date.slice(5));
    const rate = (key) => daily.map((d) => (d[key] === null ? "-" : Math.round(d[key] * 1000) / 10));
    draw(id, {
      tooltip, legend: { top: 0 }, grid: { left: 40, right: 48, top: 36, bottom: 28 },
      xAxis: { type: "category", data: days },
      yAxis: [{ type: "value", name: "对话", minInterval: 1 }, { type: "value", name: "%", min: 0, max: 100 }],
      series: [
        { name: "对话数", type: "bar", data: daily.map((d) => d.conversations), itemStyle: { color: "#9db7d9" }, barMaxWidth: 56 },
        { name: "解决率", type: "line", yAxisIndex: 1, data: rate("resolution_rate"), connectNulls: false },
        { name: "转人工率", type: "line", yAxisIndex: 1, data: rate("handoff_rate") },
        { name: "无答案率", type: "line", yAxisIndex: 1, data: rate("no_answer_rate") },
      ],
    }, daily.map((d) => [d.date, `对话 ${d.conversations}，解决率 ${percent(d.resolution_rate)}，转人工率 ${
      percent(d.handoff_rate)}，无答案率 ${percent(d.no_answer_rate)}`]), stamp);
  }

  function funnel(id, walk, stamp) {
    const steps = (walk ? Object.entries(walk.steps) : []).map(([step, s]) => [name("steps", step), s]);
    draw(id, {
      title: empty(steps), tooltip, legend: { top: 0 }, grid: { left: 8, right: 24, top: 30, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: steps.map(([step]) => step) },
      series: [
        { name: "到达", type: "bar", data: steps.map(([, s]) => s.reached), label: { show: true, position: "right" } },
        { name: "流失", type: "bar", data: steps.map(([, s]) => s.dropped), label: { show: true, position: "right" },
          itemStyle: { color: "#e07b6a" } },
      ],
    }, steps.map(([step, s]) => [step, `到达 ${s.reached}，流失 ${s.dropped}`]), stamp);
  }

  function ranking(id, rows, label, stamp) {
    const names = rows.map((r) => label(r));
    draw(id, {
      title: empty(rows), tooltip, grid: { left: 8, right: 32, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: names.map((n) => short(n, 18)) },
      series: [{ type: "bar", name: "次数", data: rows.map((r) => r.turns), label: { show: true, position: "right" } }],
    }, rows.map((r, i) => [names[i], r.turns]), stamp);
  }

  function satisfaction(id, conversations, tickets, stamp) {
    const keys = Object.keys(RATING_LABELS);
    const series = [{ name: "对话", type: "bar", data: keys.map((k) => conversations[k] || 0),
      label: { show: true, position: "top" } }];
    if (tickets) {
      series.push({ name: "工单", type: "bar", data: keys.map((k) => tickets[k] || 0), label: { show: true, position: "top" } });
    }
    draw(id, {
      tooltip, legend: { top: 0 }, grid: { left: 36, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", data: keys.map((k) => RATING_LABELS[k]) },
      yAxis: { type: "value", minInterval: 1 }, series,
    }, keys.map((k) => [RATING_LABELS[k], "对话 " + (conversations[k] || 0) + (tickets ? "，工单 " + (tickets[k] || 0) : "")]),
    stamp);
  }

  function resize() { Object.values(charts).forEach((chart) => chart.resize()); }

  function setLabels(given) { labels = Object.assign(labels, given); }

  return { available, percent, trend, funnel, ranking, satisfaction, resize, name, setLabels };
})();

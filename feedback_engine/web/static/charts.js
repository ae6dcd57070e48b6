// Draws a page's charts from its JSON data block (#chart-data) with the app's own plotly.js.
// Progressive enhancement only: without this file or without plotly the page keeps its
// server-drawn sparkline and tables. Labels are untrusted text: plotly reads a few HTML tags in
// strings (<b>, <a href>), so every label is escaped before plotly sees it.
(function () {
  "use strict";
  const block = document.getElementById("chart-data");
  if (!block || typeof window.Plotly === "undefined") return;
  const data = JSON.parse(block.textContent);
  const esc = (text) => String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const config = { displayModeBar: false, responsive: true };
  const base = {
    font: { family: "system-ui, sans-serif", size: 12, color: "#222" },
    margin: { l: 48, r: 16, t: 8, b: 40 },
    height: 260,
    paper_bgcolor: "#fff",
    plot_bgcolor: "#fff",
    legend: { orientation: "h", y: -0.2 },
  };
  const drawn = (element) => {
    element.dataset.drawn = "1";
    const fallback = document.getElementById(element.dataset.fallback || "");
    if (fallback) fallback.hidden = true;
  };
  const trend = document.getElementById("trend-chart");
  if (trend && data.trend && data.trend.weeks.length) {
    const t = data.trend;
    window.Plotly.newPlot(
      trend,
      [
        { type: "bar", name: "items", x: t.weeks, y: t.weekly, marker: { color: "#1f3a5f" },
          hovertemplate: "week to %{x}: %{y} items<extra></extra>" },
        { type: "scatter", mode: "lines+markers", name: "negative", x: t.weeks, y: t.negative,
          line: { color: "#a00" }, hovertemplate: "week to %{x}: %{y} negative<extra></extra>" },
      ],
      { ...base, xaxis: { title: { text: "week ending" } }, yaxis: { title: { text: "items" }, rangemode: "tozero" } },
      config,
    ).then(() => drawn(trend));
  }
  const channels = document.getElementById("channel-chart");
  if (channels && data.channels && data.channels.length) {
    const names = data.channels.map((c) => esc(c.channel));
    const colours = { negative: "#a00", neutral: "#999", positive: "#070" };
    const traces = ["negative", "neutral", "positive"].map((label) => ({
      type: "bar",
      orientation: "h",
      name: label,
      y: names,
      x: data.channels.map((c) => c[label]),
      marker: { color: colours[label] },
      hovertemplate: "%{y}: %{x} " + label + "<extra></extra>",
    }));
    window.Plotly.newPlot(
      channels,
      traces,
      { ...base, barmode: "stack", height: 80 + 28 * names.length, margin: { ...base.margin, l: 120 },
        xaxis: { title: { text: "items" } }, yaxis: { automargin: true } },
      config,
    ).then(() => drawn(channels));
  }
})();

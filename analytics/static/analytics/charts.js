// Weekly charts of the dashboards, drawn with uPlot (templates/static/vendor/uplot) from the
// JSON next to each chart. The table beside each chart carries the same figures for screen
// readers and for pages without JavaScript.
(function () {
  var colours = ["#3b5bdb", "#e8590c", "#2f9e44", "#ae3ec9"];
  function draw(box) {
    var source = document.getElementById(box.dataset.chart);
    if (!source || !window.uPlot) return;
    var data = JSON.parse(source.textContent);
    var xs = data.labels.map(function (_, i) { return i; });
    var series = [{ label: "Week of", value: function (u, i) { return i == null ? "" : data.labels[i]; } }];
    data.series.forEach(function (s, n) {
      series.push({ label: s.label, stroke: colours[n % colours.length], width: 2, points: { show: true } });
    });
    var options = {
      width: Math.max(280, box.clientWidth || 600), height: 220, series: series,
      scales: { x: { time: false } },
      axes: [{ values: function (u, ticks) { return ticks.map(function (i) { return data.labels[i] || ""; }); } }, {}],
    };
    new window.uPlot(options, [xs].concat(data.series.map(function (s) { return s.values; })), box);
  }
  function start() { document.querySelectorAll("[data-chart]").forEach(draw); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

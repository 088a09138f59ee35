// Weekly charts of the dashboards, drawn with uPlot (templates/static/vendor/uplot, built by
// `make` from frontend/package-lock.json) from the JSON next to each chart. The table beside
// each chart carries the same figures for screen readers and for pages without JavaScript.
//
// The charts sit below the fold, and parsing uPlot and drawing cost a phone a few hundred
// milliseconds of main thread: uPlot (script and stylesheet, named by this script's
// data-uplot-js / data-uplot-css) is fetched only when a chart comes near the viewport, and each
// chart is drawn in an idle moment, so that loading the page never waits for them.
(function () {
  var colours = ["#3b5bdb", "#e8590c", "#2f9e44", "#ae3ec9"];
  var me = document.currentScript;
  var library = null;

  function loadUplot() {
    if (window.uPlot) return Promise.resolve();
    if (library) return library;
    library = new Promise(function (resolve, reject) {
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = me.dataset.uplotCss;
      document.head.appendChild(css);
      var script = document.createElement("script");
      script.src = me.dataset.uplotJs;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
    return library;
  }

  function idle(work) {
    if (window.requestIdleCallback) window.requestIdleCallback(work, { timeout: 1000 });
    else window.setTimeout(work, 1);
  }

  function draw(box) {
    var source = document.getElementById(box.dataset.chart);
    if (!source || !window.uPlot || box.dataset.drawn) return;
    box.dataset.drawn = "true";
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

  function show(box) {
    loadUplot().then(function () { idle(function () { draw(box); }); });
  }

  function start() {
    var boxes = document.querySelectorAll("[data-chart]");
    if (!boxes.length) return;
    if (!("IntersectionObserver" in window)) {
      boxes.forEach(show);
      return;
    }
    var watcher = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        watcher.unobserve(entry.target);
        show(entry.target);
      });
    }, { rootMargin: "200px 0px" });
    boxes.forEach(function (box) { watcher.observe(box); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

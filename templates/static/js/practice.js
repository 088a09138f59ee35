// Practice time and compare views for the dashboards (analytics.apis), and the reply's
// feedback seen (learning's replies API; the page's GET only reads), by listening to the
// page's media: time while a reply's compare page plays counts as "playing", time while a
// recorder records (a <video> showing a live camera stream) as "recording". Beacons go every
// 15 seconds and when the page is hidden; a page script may also dispatch
// `practika:practice` on document with {seconds, kind} to report time it measured itself.
import { csrfToken } from "./lib/csrf.js";

(function () {
  "use strict";
  var match = location.pathname.match(/\/(replies|exercises)\/([0-9a-f-]{36})\/?$/);
  if (!match) return;
  var subject = match[1] === "replies" ? { reply: match[2] } : { exercise: match[2] };
  var pending = { playing: 0, recording: 0 };
  var started = {};

  function post(path, body) {
    return fetch(path, {
      method: "POST", credentials: "same-origin", keepalive: true,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).catch(function () { /* lost beacons only cost a few seconds of figures */ });
  }

  function kindOf(media) {
    return media.srcObject ? "recording" : "playing";
  }

  function stop(media) {
    var kind = kindOf(media);
    var key = kind + (media.dataset.media || "");
    if (started[key]) {
      pending[kind] += (Date.now() - started[key]) / 1000;
      delete started[key];
    }
  }

  function watch(media) {
    if (media.dataset.practiceWatched) return;
    media.dataset.practiceWatched = "1";
    media.addEventListener("play", function () { started[kindOf(media) + (media.dataset.media || "")] = Date.now(); });
    ["pause", "ended", "emptied"].forEach(function (name) { media.addEventListener(name, function () { stop(media); }); });
  }

  function flush() {
    // Media still playing count up to now and go on counting.
    Object.keys(started).forEach(function (key) {
      var kind = key.indexOf("recording") === 0 ? "recording" : "playing";
      pending[kind] += (Date.now() - started[key]) / 1000;
      started[key] = Date.now();
    });
    ["playing", "recording"].forEach(function (kind) {
      var seconds = Math.round(pending[kind]);
      if (seconds < 1) return;
      pending[kind] -= seconds;
      post("/api/v1/practice/", Object.assign({ seconds: Math.min(seconds, 120), kind: kind }, subject));
    });
  }

  document.querySelectorAll("video,audio").forEach(watch);
  new MutationObserver(function () { document.querySelectorAll("video,audio").forEach(watch); })
    .observe(document.body, { childList: true, subtree: true });
  document.addEventListener("practika:practice", function (event) {
    var detail = event.detail || {};
    if (detail.kind === "playing" || detail.kind === "recording") pending[detail.kind] += Number(detail.seconds) || 0;
  });
  setInterval(flush, 15000);
  document.addEventListener("visibilitychange", function () { if (document.hidden) flush(); });
  window.addEventListener("pagehide", flush);
  if (subject.reply) {
    post("/api/v1/compare-views/", subject);
    post("/api/v1/replies/" + subject.reply + "/seen/", {});
  }
})();

// Live updates for every page of a tenant (loaded by templates/analytics/_bell.html): one
// websocket to /ws/events/ (tenants.websockets), reconnecting with backoff.
//   {"type": "notification", "unread": n, "notification": {...}}  updates the bell;
//   {"type": "comment.created", "reply": "<uuid>", "comment": {...}} on that reply's compare
//     page dispatches `practika:remote-comment` on document (detail: the comment). A page
//     script that shows it calls event.preventDefault(); otherwise the comment is added to
//     the page's [data-threads] list here so that it still appears.
// Every message is also re-dispatched as `practika:live` (detail: the message).
import { csrfToken } from "./lib/csrf.js";

(function () {
  "use strict";
  var bell = document.querySelector("[data-bell]");
  var match = location.pathname.match(/\/replies\/([0-9a-f-]{36})\/?$/);
  var openReply = match ? match[1] : null;
  var delay = 1000;

  function setUnread(count) {
    if (!bell) return;
    var badge = bell.querySelector("[data-bell-count]");
    badge.textContent = String(count);
    badge.hidden = !count;
    var summary = bell.querySelector("summary");
    if (summary) summary.setAttribute("aria-label", "Notifications, " + count + " unread");
  }

  function addToBell(item) {
    if (!bell || !item) return;
    var list = bell.querySelector("[data-bell-list]");
    var empty = list.querySelector("[data-bell-empty]");
    if (empty) empty.remove();
    var li = document.createElement("li");
    li.className = "unread";
    var form = document.createElement("form");
    form.method = "post";
    form.action = "/notifications/" + item.id + "/read/";
    var token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrfmiddlewaretoken";
    token.value = csrfToken();
    var button = document.createElement("button");
    button.className = "link bell-item";
    var title = document.createElement("span");
    title.className = "bell-title";
    title.textContent = item.title;
    var when = document.createElement("span");
    when.className = "small muted";
    when.textContent = "just now";
    button.append(title, when);
    form.append(token, button);
    li.append(form);
    list.prepend(li);
  }

  function toast(text) {
    var box = document.createElement("div");
    box.className = "live-toast";
    box.setAttribute("role", "status");
    box.textContent = text;
    document.body.append(box);
    setTimeout(function () { box.remove(); }, 5000);
  }

  function showComment(comment) {
    var list = document.querySelector("[data-threads]");
    if (!list || list.querySelector('[data-comment="' + comment.public_id + '"]')) return;
    var item = document.createElement("li");
    item.className = "thread live-new";
    var box = document.createElement("div");
    box.className = "comment";
    box.dataset.comment = comment.public_id;
    var seconds = comment.at_ms / 1000;
    var head = document.createElement("p");
    head.className = "small muted";
    head.textContent = comment.author.display_name + " · " + Math.floor(seconds / 60) + ":" +
      (seconds % 60).toFixed(1).padStart(4, "0");
    var body = document.createElement("p");
    body.textContent = comment.body; // text, never HTML
    box.append(head, body);
    item.append(box);
    list.append(item);
    var none = document.querySelector("[data-no-comments]");
    if (none) none.hidden = true;
    toast("New comment from " + comment.author.display_name);
  }

  function handle(message) {
    document.dispatchEvent(new CustomEvent("practika:live", { detail: message }));
    if (message.type === "notification") {
      setUnread(message.unread);
      addToBell(message.notification);
    } else if (message.type === "comment.created" && message.reply === openReply) {
      var event = new CustomEvent("practika:remote-comment", { detail: message.comment, cancelable: true });
      if (document.dispatchEvent(event)) showComment(message.comment);
    }
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/events/");
    socket.addEventListener("open", function () {
      delay = 1000;
      document.documentElement.dataset.live = "open";
    });
    socket.addEventListener("message", function (event) {
      try { handle(JSON.parse(event.data)); } catch (error) { /* a malformed message: ignore */ }
    });
    socket.addEventListener("close", function (event) {
      document.documentElement.dataset.live = "closed";
      if (event.code === 4403 || event.code === 4404) return; // not a member here: stop
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }

  if (!window.WebSocket || window.practikaLive) return;
  window.practikaLive = true;
  connect();
})();

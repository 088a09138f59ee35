// Time-coded comments: markers on the timeline (and, with a time map, at the matching moment
// on the other side's lane), the threads below, and the forms to add, answer, edit, delete.
// Comments are people's text: they are only ever put on the page with textContent.
import { api } from "../lib/api.js";
import { clock } from "../lib/clock.js";
import { element } from "../lib/dom.js";
import { on } from "./events.js";
import { duration, sides } from "./sides.js";
import { $, config, demoAtMs, hasMap, replyAtMs, state } from "./state.js";
import { now, pause, seek } from "./transport.js";

const markersBox = $("[data-markers]");
const threadsList = $("[data-threads]");
const noComments = $("[data-no-comments]");
const form = $("[data-comment-form]");
const formBody = $("[data-comment-body]");
const formSide = $("[data-comment-side]");
const formTime = $("[data-form-time]");
const formError = $("[data-comment-error]");
let pendingT = 0;

function commentT(comment) {
  return comment.side === "reply" ? sides.right.toT(comment.at_ms / 1000) : comment.at_ms / 1000;
}

export function placeMarkers() {
  markersBox.replaceChildren();
  const total = duration();
  for (const comment of state.threads) {
    const t = commentT(comment);
    const marker = element("button", `marker side-${comment.side}`);
    marker.type = "button";
    marker.style.left = `${Math.max(0, Math.min(100, (t / total) * 100))}%`;
    marker.dataset.commentId = comment.public_id;
    marker.dataset.atMs = String(comment.at_ms);
    marker.dataset.side = comment.side;
    marker.dataset.t = t.toFixed(3);
    marker.title = `${clock(t)} · ${comment.author.display_name}: ${comment.body}`;
    marker.setAttribute("aria-label", `Comment at ${clock(t)} by ${comment.author.display_name}`);
    marker.addEventListener("click", () => {
      pause();
      seek(t);
      const item = threadsList.querySelector(`[data-comment="${comment.public_id}"]`);
      if (item) {
        item.scrollIntoView({ block: "nearest", behavior: "smooth" });
        item.classList.remove("flash");
        void item.offsetWidth;
        item.classList.add("flash");
      }
    });
    markersBox.append(marker);
  }
  placeMappedMarkers();
}

// With a time map, each comment also shows on the other side's lane at the matching moment:
// a demonstration comment at replyAt(at_ms) on the reply, a reply comment at demoAt(at_ms).
const mappedBox = $("[data-mapped-markers]");
function placeMappedMarkers() {
  if (!mappedBox) return;
  mappedBox.replaceChildren();
  if (!hasMap() || config.mode !== "demonstration") return;
  const total = duration();
  for (const comment of state.threads) {
    const onReply = comment.side !== "reply";
    const ms = Math.round(onReply ? replyAtMs(comment.at_ms) : demoAtMs(comment.at_ms));
    const other = onReply ? sides.right : sides.left;
    const t = other.toT(ms / 1000);
    const marker = element("button", `mapped-marker on-${onReply ? "reply" : "demonstration"} side-${comment.side}`);
    marker.type = "button";
    marker.style.left = `${Math.max(0, Math.min(100, (t / total) * 100))}%`;
    marker.dataset.commentId = comment.public_id;
    marker.dataset.mappedMs = String(ms);
    marker.dataset.t = t.toFixed(3);
    const where = onReply ? config.right.label : config.left.label;
    marker.title = `${comment.author.display_name}: ${comment.body} (the matching moment in the ${where.toLowerCase()}, ${clock(ms / 1000)})`;
    marker.setAttribute("aria-label", `Comment by ${comment.author.display_name}, matching moment in the ${where.toLowerCase()} at ${clock(ms / 1000)}`);
    marker.addEventListener("click", () => { pause(); seek(t); });
    mappedBox.append(marker);
  }
}

function renderComment(comment, { child = false, thread = null } = {}) {
  const box = element("div", "comment");
  box.dataset.comment = comment.public_id;
  const t = commentT(comment);
  const at = element("button", `at side-${comment.side}${child ? " child" : ""}`, clock(t));
  at.type = "button";
  at.title = `Play from ${clock(t)}`;
  at.addEventListener("click", () => { seek(t); });
  const who = element("div", "who-line");
  who.append(element("strong", "", comment.author.display_name));
  const sideName = comment.side === "reply" ? config.right.label : config.left.label;
  who.append(document.createTextNode(` · ${sideName}${comment.edited_at ? " · edited" : ""}`));
  const body = element("p", "body", comment.body);
  const acts = element("div", "acts");
  if (!child) {
    const answer = element("button", "link", "Reply");
    answer.type = "button";
    answer.addEventListener("click", () => openInline(box, { parent: thread || comment }));
    acts.append(answer);
  }
  if (comment.author.public_id === config.me) {
    const edit = element("button", "link", "Edit");
    edit.type = "button";
    edit.addEventListener("click", () => openInline(box, { edit: comment }));
    const remove = element("button", "link", "Delete");
    remove.type = "button";
    remove.addEventListener("click", async () => {
      if (!confirm("Delete this comment?")) return;
      try {
        await api(config.api.comment.replace("00000000-0000-0000-0000-000000000000", comment.public_id), { method: "DELETE" });
        await loadComments();
      } catch (error) { alert(error.message); }
    });
    acts.append(edit, remove);
  }
  box.append(at, who, body, acts);
  return box;
}

function openInline(box, { parent = null, edit = null }) {
  const existing = box.querySelector(".inline-form");
  if (existing) { existing.remove(); return; }
  const inline = element("form", "inline-form");
  const text = element("textarea");
  text.rows = 2;
  text.maxLength = 4000;
  text.value = edit ? edit.body : "";
  text.setAttribute("aria-label", edit ? "Edit comment" : "Answer");
  const row = element("div", "row");
  const send = element("button", "small", edit ? "Save" : "Answer");
  const cancel = element("button", "small secondary", "Cancel");
  cancel.type = "button";
  cancel.addEventListener("click", () => inline.remove());
  const error = element("span", "error small");
  row.append(send, cancel, error);
  inline.append(text, row);
  inline.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      if (edit) {
        await api(config.api.comment.replace("00000000-0000-0000-0000-000000000000", edit.public_id), {
          method: "PATCH", body: JSON.stringify({ body: text.value }),
        });
      } else {
        await api(config.api.comments, {
          method: "POST",
          body: JSON.stringify({ body: text.value, at_ms: parent.at_ms, side: parent.side, parent: parent.public_id }),
        });
      }
      await loadComments();
    } catch (e) { error.textContent = e.message; }
  });
  box.append(inline);
  text.focus();
}

function renderThreads() {
  threadsList.replaceChildren();
  for (const thread of state.threads) {
    const item = element("li", "thread");
    item.append(renderComment(thread));
    if (thread.replies && thread.replies.length) {
      const children = element("ol", "children");
      for (const child of thread.replies) {
        const li = element("li");
        li.append(renderComment(child, { child: true, thread }));
        children.append(li);
      }
      item.append(children);
    }
    threadsList.append(item);
  }
  noComments.hidden = state.threads.length > 0;
  placeMarkers();
}

export async function loadComments() {
  try {
    state.threads = await api(config.api.comments);
    state.threads.sort((a, b) => commentT(a) - commentT(b));
    renderThreads();
  } catch (error) {
    noComments.textContent = `Comments could not be loaded: ${error.message}`;
  }
}

export function openCommentForm() {
  pause();
  pendingT = now();
  formTime.textContent = clock(pendingT);
  form.hidden = false;
  formError.textContent = "";
  formBody.focus();
}

export function initComments() {
  on("layout", placeMarkers);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const side = formSide.value;
    const position = side === "reply" ? Math.max(0, sides.right.pos(pendingT)) : pendingT;
    try {
      await api(config.api.comments, {
        method: "POST",
        body: JSON.stringify({ body: formBody.value, at_ms: Math.round(position * 1000), side }),
      });
      formBody.value = "";
      form.hidden = true;
      await loadComments();
    } catch (error) {
      formError.textContent = error.message;
    }
  });
  $("[data-comment-cancel]").addEventListener("click", () => { form.hidden = true; });
  $("[data-comment-here]").addEventListener("click", openCommentForm);

  // A comment posted elsewhere (live.js relays it from the websocket): show the new thread.
  document.addEventListener("practika:remote-comment", (event) => {
    event.preventDefault(); // tells live.js that this page shows it itself
    loadComments();
  });
}

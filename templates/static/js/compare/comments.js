// Time-coded comments: markers on the timeline (and, with a time map, at the matching moment
// on the other side's lane), the threads below, and the forms to add, answer, edit, delete.
// Comments are people's text: they are only ever put on the page with textContent.
//
// A comment is anchored to its own side's media time (at_ms on the demonstration or on the
// reply). The thread list shows that time, which never depends on the sync mode; the
// timeline places it (and, with a map, its matching moment on the other side) under the mode
// in force. The comments are drawn once the alignment's first answer is in (loadComments'
// `after`), so the first drawing is the same whichever of the two answers first.
import { api } from "../lib/api.js";
import { clock } from "../lib/clock.js";
import { element } from "../lib/dom.js";
import { draftFor, endDraft, refreshDrawings } from "./drawing.js";
import { on } from "./events.js";
import { commentMedia, initMediaComments, noteForComment, resetNote } from "./media_comment.js";
import { markPeerComment } from "./peer_review.js";
import { duration, sides } from "./sides.js";
import { $, config, demoAtMs, hasMap, replyAtMs, root, state } from "./state.js";
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

// The comment's moment on the page's timeline (the demonstration's seconds) under the mode in
// force: a reply comment is at toT(at_ms) (by the offset, or along the map under auto-sync).
export function commentT(comment) {
  return comment.side === "reply" ? sides.right.toT(comment.at_ms / 1000) : comment.at_ms / 1000;
}

// The same moment in the other side's own seconds (with a map: the matching moment; without:
// by the offset), or null when comparing two attempts.
function otherSideMs(comment) {
  if (config.mode !== "demonstration") return null;
  if (hasMap()) return Math.round(comment.side === "reply" ? demoAtMs(comment.at_ms) : replyAtMs(comment.at_ms));
  const ms = comment.side === "reply" ? comment.at_ms + state.offset * 1000 : comment.at_ms - state.offset * 1000;
  return Math.round(ms);
}

// The "(demonstration 0:06.2)" after a comment's own time; redrawn on "layout", when the
// offset, the mode or the map may have changed.
function showMappedAt(span) {
  const other = otherSideMs({ side: span.dataset.side, at_ms: Number(span.dataset.atMs) });
  const shown = other !== null && other >= 0;
  span.textContent = shown ? ` (${otherLabel(span.dataset.side).toLowerCase()} ${clock(other / 1000)})` : "";
  if (shown) span.dataset.mappedMs = String(other); else delete span.dataset.mappedMs;
}

const sideLabel = (side) => (side === "reply" ? config.right.label : config.left.label);
const otherLabel = (side) => (side === "reply" ? config.left.label : config.right.label);

// Every comment, threads and their answers.
const allComments = () => state.threads.flatMap((thread) => [thread, ...(thread.replies || [])]);

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
    marker.title = `${clock(t)} · ${comment.author.display_name}: ${comment.body || "a recorded note"}`;
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
  threadsList.querySelectorAll(".mapped-at").forEach(showMappedAt);
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
  const own = clock(comment.at_ms / 1000);
  const at = element("button", `at side-${comment.side}${child ? " child" : ""}`, own);
  at.type = "button";
  at.dataset.atMs = String(comment.at_ms);
  at.setAttribute("aria-label", `Play from ${own} in the ${sideLabel(comment.side).toLowerCase()}`);
  at.addEventListener("click", () => { seek(commentT(comment)); });
  const who = element("div", "who-line");
  who.append(element("strong", "", comment.author.display_name));
  who.append(document.createTextNode(` · ${sideLabel(comment.side)} ${own}`));
  const mappedAt = element("span", "mapped-at");
  mappedAt.dataset.side = comment.side;
  mappedAt.dataset.atMs = String(comment.at_ms);
  who.append(mappedAt);
  showMappedAt(mappedAt);
  if (comment.edited_at) who.append(document.createTextNode(" · edited"));
  if (comment.drawing?.length) who.append(element("span", "drawn-tag", " · drawing on the picture"));
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
  markPeerComment(comment, { who, acts, box, reload: loadComments });
  box.append(at, who, body, ...commentMedia(comment), acts);
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
  refreshDrawings();
}

// `after`: a promise that settles once the alignment's first answer is in (and with it the
// sync mode), so the comments are placed once, under the mode the page keeps.
let settled = Promise.resolve();
export async function loadComments({ after } = {}) {
  if (after) settled = after.catch(() => {});
  try {
    const [threads] = await Promise.all([api(config.api.comments), settled]);
    state.threads = threads;
    // In timeline order under the mode settled above.
    state.threads.sort((a, b) => commentT(a) - commentT(b) || a.at_ms - b.at_ms);
    renderThreads();
    root.dataset.comments = "ready";
  } catch (error) {
    noComments.textContent = `Comments could not be loaded: ${error.message}`;
  }
}

// A link to one comment (?comment=<id>, from a notification or an email) opens the page at
// its moment; #t=<seconds> at a moment of the timeline.
export function openLinkedMoment() {
  const id = new URLSearchParams(location.search).get("comment");
  if (id) {
    const comment = allComments().find((c) => c.public_id === id);
    if (!comment) return;
    seek(commentT(comment));
    const item = threadsList.querySelector(`[data-comment="${CSS.escape(id)}"]`);
    if (item) { item.classList.add("flash", "linked"); item.setAttribute("tabindex", "-1"); }
    root.dataset.linkedComment = id;
    return;
  }
  const match = location.hash.match(/^#t=(\d+(?:\.\d+)?)$/);
  if (match) seek(Number(match[1]));
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
  on("comments", () => loadComments()); // a recorded note became ready (media_comment.js)
  initMediaComments();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const side = formSide.value;
    const position = side === "reply" ? Math.max(0, sides.right.pos(pendingT)) : pendingT;
    try {
      const note = noteForComment(); // {media: id} with a recorded note (media_comment.js)
      await api(config.api.comments, {
        method: "POST",
        body: JSON.stringify({
          body: formBody.value, at_ms: Math.round(position * 1000), side,
          drawing: draftFor(side), // compare/drawing.js
          saved_comments: (form.dataset.savedComments || "").split(",").filter(Boolean), // compare/library.js
          ...note,
        }),
      });
      formBody.value = "";
      delete form.dataset.savedComments;
      endDraft();
      resetNote();
      form.hidden = true;
      await loadComments();
    } catch (error) {
      formError.textContent = error.message;
    }
  });
  $("[data-comment-cancel]").addEventListener("click", () => { form.hidden = true; resetNote(); });
  $("[data-comment-here]").addEventListener("click", openCommentForm);

  // A comment posted elsewhere (live.js relays it from the websocket): show the new thread.
  document.addEventListener("practika:remote-comment", (event) => {
    event.preventDefault(); // tells live.js that this page shows it itself
    loadComments();
  });
}

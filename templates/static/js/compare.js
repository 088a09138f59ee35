/* The compare page: a demonstration (or an earlier attempt) and a reply driven by one transport.
 *
 * Time. The page keeps one timeline, in the LEFT side's (the demonstration's) seconds: `t`.
 * Each side maps it to its own position:
 *     left position  = t
 *     right position = t - offset          (offset = the reply's sync_offset_ms / 1000)
 * so a positive offset means the reply's first moment plays together with the demonstration
 * at `offset` seconds (the student started late); with a negative offset the demonstration's
 * first moment plays together with the reply at |offset| seconds (the student started early).
 * The timeline runs from 0 to max(left duration, offset + right duration).
 *
 * Sync. One element is the master clock: the left one while `t` lies within it, otherwise the
 * right one, otherwise (both out of range, e.g. a gap before a late reply) a wall clock. Every
 * animation frame the follower's position is compared with where it should be: more than
 * 40 ms off, it is moved (currentTime); less, its playbackRate is nudged by up to ±6 % so it
 * drifts back without an audible jump. Pitch is preserved at every speed.
 *
 * Safety. Comments are people's text: they are only ever put on the page with textContent.
 */
(function () {
  "use strict";

  const SEEK_THRESHOLD = 0.04; // seconds of drift before the follower is moved, not nudged
  const NUDGE_GAIN = 1.5; // playbackRate correction per second of drift
  const NUDGE_MAX = 0.06;
  const SEEK_COOLDOWN_MS = 400; // a moved element needs a moment to buffer before it is judged
  const FRAME = 1 / 30; // the renditions are 30 fps or less
  const COLORS = { left: "#8f86f0", right: "#f0a35e", grid: "#e3e5e8" };

  const configElement = document.getElementById("compare-config");
  if (!configElement) return;
  const config = JSON.parse(configElement.textContent);
  const root = document.querySelector("[data-compare]");
  const $ = (selector) => root.querySelector(selector);
  const $$ = (selector) => [...root.querySelectorAll(selector)];
  const api = (...args) => window.PractikaLearning.api(...args);

  function clock(seconds) {
    const negative = seconds < 0;
    const tenths = Math.round(Math.abs(seconds) * 10);
    const m = Math.floor(tenths / 600);
    const s = Math.floor((tenths % 600) / 10);
    return `${negative ? "−" : ""}${m}:${String(s).padStart(2, "0")}.${tenths % 10}`;
  }

  /* --- Sides ---------------------------------------------------------------------------- */

  let offset = config.can_sync ? config.offset_ms / 1000 : 0;

  function makeSide(name) {
    const el = root.querySelector(`[data-media="${name}"]`);
    const info = config[name];
    const side = {
      name,
      el,
      mediaId: info.media.public_id,
      duration: (info.sources && info.sources.duration) || 0,
      peaks: (info.waveform && info.waveform.peaks) || [],
      volume: 1,
      muted: false,
      solo: false,
      cooldownUntil: 0,
      seekLatency: 0.1, // seconds a seek takes here, learnt from each seek
      seekStartedAt: 0,
      seeks: 0,
      drift: 0,
      pos(t) { return name === "left" ? t : t - offset; },
      toT(position) { return name === "left" ? position : position + offset; },
      inRange(t) { const p = this.pos(t); return p >= 0 && p < this.duration - 0.01; },
    };
    if (el) {
      el.preservesPitch = true;
      el.mozPreservesPitch = true;
      el.webkitPreservesPitch = true;
      el.addEventListener("loadedmetadata", () => {
        if (Number.isFinite(el.duration) && el.duration > 0) side.duration = el.duration;
        layout();
      });
      el.addEventListener("error", () => refreshSource(side));
      // A seek is over when the element has the new position's data (seeked).
      el.addEventListener("seeked", () => {
        if (!side.seekStartedAt) return;
        const took = (performance.now() - side.seekStartedAt) / 1000;
        side.seekStartedAt = 0;
        side.seekLatency = Math.max(0.02, Math.min(1, 0.6 * side.seekLatency + 0.4 * took));
        side.cooldownUntil = performance.now() + 150;
      });
    }
    return side;
  }

  const sides = { left: makeSide("left"), right: makeSide("right") };
  const playable = () => [sides.left, sides.right].filter((s) => s.el);

  // Signed URLs are short-lived: when one has expired, fetch a fresh one and carry on.
  async function refreshSource(side) {
    if (!side.mediaId || side.refreshing) return;
    side.refreshing = true;
    try {
      const media = await api(`/api/v1/media/${side.mediaId}/`);
      const r = media.renditions || {};
      const url = r["720p"] || r["360p"] || r.audio || Object.values(r)[0];
      if (url && url !== side.el.src) {
        const position = side.el.currentTime;
        side.el.src = url;
        side.el.currentTime = position;
      }
    } catch (e) { /* the page keeps working with the other side */ }
    setTimeout(() => { side.refreshing = false; }, 10000);
  }

  function duration() {
    return Math.max(sides.left.duration, sides.right.duration + offset, 0.001);
  }

  /* --- Transport state ------------------------------------------------------------------ */

  let playing = false;
  let rate = 1;
  let anchorT = 0; // the timeline position at anchorWall (used when no element is the clock)
  let anchorWall = performance.now();
  let loopA = null;
  let loopB = null;

  function masterSide(t) {
    for (const side of [sides.left, sides.right]) {
      if (side.el && side.inRange(t) && !side.el.paused && !side.el.seeking && side.el.readyState >= 2 && performance.now() > side.cooldownUntil) return side;
    }
    return null;
  }

  function now() {
    if (!playing) return anchorT;
    const wall = anchorT + ((performance.now() - anchorWall) / 1000) * rate;
    const master = masterSide(anchorT);
    return master ? master.toT(master.el.currentTime) : wall;
  }

  function anchor(t) {
    anchorT = t;
    anchorWall = performance.now();
  }

  // Move a playing element, landing where the clock will be once the element has caught up:
  // a seek takes time (decoding from the previous keyframe), measured on every seek.
  function moveElement(side, target) {
    const lead = side.el.paused ? 0 : side.seekLatency * rate;
    side.el.currentTime = Math.max(0, target + lead);
    side.seekStartedAt = performance.now();
    side.seeks += 1;
    side.cooldownUntil = performance.now() + SEEK_COOLDOWN_MS;
  }

  function startElement(side, position) {
    side.el.playbackRate = rate;
    side.el.currentTime = Math.max(0, position);
    side.seekStartedAt = performance.now();
    side.cooldownUntil = performance.now() + SEEK_COOLDOWN_MS;
    const promise = side.el.play();
    if (promise) promise.catch(() => {});
  }

  function follow(side, t, master) {
    if (!side.el || side === master) return;
    const target = side.pos(t);
    if (!side.inRange(t)) {
      if (!side.el.paused) side.el.pause();
      if (target < 0 && side.el.currentTime > 0.001) side.el.currentTime = 0;
      return;
    }
    if (side.el.paused) { startElement(side, target + side.seekLatency * rate); return; }
    if (side.el.seeking || side.el.readyState < 3 || performance.now() < side.cooldownUntil) return;
    const drift = side.el.currentTime - target; // > 0: the follower is ahead
    side.drift = drift;
    if (Math.abs(drift) > SEEK_THRESHOLD) {
      side.el.playbackRate = rate;
      moveElement(side, target);
    } else {
      const correction = Math.max(-NUDGE_MAX, Math.min(NUDGE_MAX, drift * NUDGE_GAIN));
      side.el.playbackRate = rate * (1 - correction);
    }
  }

  function tick() {
    if (playing) {
      let t = now();
      if (loopA !== null && loopB !== null && t >= loopB) {
        seek(loopA);
        t = loopA;
      } else if (t >= duration() - 0.01) {
        pause();
        seek(duration());
        t = duration();
      } else {
        const master = masterSide(t);
        if (master) master.el.playbackRate = rate;
        follow(sides.left, t, master);
        follow(sides.right, t, master);
        anchor(t);
      }
    }
    render();
  }

  function loop() {
    tick();
    requestAnimationFrame(loop);
  root.dataset.ready = "true";
  }
  // Background tabs throttle animation frames; a slow timer keeps the sides together there.
  setInterval(() => { if (document.hidden) tick(); }, 250);

  function play() {
    if (playing || !playable().length) return;
    if (anchorT >= duration() - 0.01) anchor(loopA ?? 0);
    playing = true;
    const t = anchorT;
    // Started from the click itself (a user gesture), so the browser lets both play sound.
    for (const side of playable()) if (side.inRange(t)) startElement(side, side.pos(t));
    anchor(t);
    render();
  }

  function pause() {
    if (!playing) return;
    const t = now();
    playing = false;
    for (const side of playable()) side.el.pause();
    seek(t);
  }

  function seek(t) {
    t = Math.max(0, Math.min(duration(), t));
    anchor(t);
    for (const side of playable()) {
      const target = Math.max(0, Math.min(side.duration, side.pos(t)));
      side.el.currentTime = target;
      side.cooldownUntil = performance.now() + SEEK_COOLDOWN_MS;
      if (playing && side.inRange(t) && side.el.paused) startElement(side, target);
      if (!side.inRange(t) && !side.el.paused) side.el.pause();
    }
    render();
  }

  function setRate(value) {
    rate = value;
    for (const side of playable()) side.el.playbackRate = rate;
    anchor(now());
  }

  /* --- Mixer ---------------------------------------------------------------------------- */

  function applyMix() {
    const soloing = playable().some((s) => s.solo);
    for (const side of playable()) {
      side.el.volume = side.volume;
      side.el.muted = side.muted || (soloing && !side.solo);
    }
    $$("[data-mute]").forEach((b) => b.setAttribute("aria-pressed", String(sides[b.dataset.mute].muted)));
    $$("[data-solo]").forEach((b) => b.setAttribute("aria-pressed", String(sides[b.dataset.solo].solo)));
  }

  /* --- Sync offset ---------------------------------------------------------------------- */

  let saveTimer = null;
  const offsetOutput = $("[data-offset]");
  const offsetSaved = $("[data-offset-saved]");

  function setOffset(seconds, { save = true } = {}) {
    const t = now();
    offset = Math.max(-600, Math.min(600, Math.round(seconds * 1000) / 1000));
    if (offsetOutput) offsetOutput.textContent = `${Math.round(offset * 1000)} ms`;
    if (!playing) seek(t);
    layout();
    if (!save || !config.can_sync) return;
    clearTimeout(saveTimer);
    if (offsetSaved) offsetSaved.textContent = "";
    saveTimer = setTimeout(async () => {
      try {
        const reply = await api(config.api.sync, {
          method: "POST",
          body: JSON.stringify({ offset_ms: Math.round(offset * 1000) }),
        });
        if (offsetSaved) offsetSaved.textContent = "Saved";
        root.dataset.savedOffsetMs = String(reply.sync_offset_ms);
      } catch (error) {
        if (offsetSaved) offsetSaved.textContent = error.message;
      }
    }, 500);
  }

  /* --- Timeline ------------------------------------------------------------------------- */

  const track = $("[data-track]");
  const canvas = $("[data-waves]");
  const playhead = $("[data-playhead]");
  const loopRegion = $("[data-loop-region]");
  const markersBox = $("[data-markers]");
  const timeOut = $("[data-time]");
  const durationOut = $("[data-duration]");
  const commentTime = $("[data-comment-time]");
  const playIcon = $("[data-icon-play]");
  const pauseIcon = $("[data-icon-pause]");
  const playButton = $("[data-play]");

  function drawLane(ctx, side, top, height, width) {
    const peaks = side.peaks;
    const total = duration();
    const start = side.toT(0);
    ctx.fillStyle = COLORS.grid;
    ctx.fillRect(0, top + height / 2, width, 1);
    if (!side.duration) return;
    const x0 = (start / total) * width;
    const x1 = ((start + side.duration) / total) * width;
    ctx.fillStyle = side.name === "left" ? "rgba(143,134,240,.08)" : "rgba(240,163,94,.1)";
    ctx.fillRect(x0, top, x1 - x0, height);
    ctx.fillStyle = COLORS[side.name];
    if (!peaks.length) return;
    const loudest = Math.max(0.05, ...peaks);
    const columns = Math.max(1, Math.round(x1 - x0));
    for (let c = 0; c < columns; c += 1) {
      const from = Math.floor((c / columns) * peaks.length);
      const to = Math.max(from + 1, Math.floor(((c + 1) / columns) * peaks.length));
      let peak = 0;
      for (let i = from; i < to && i < peaks.length; i += 1) peak = Math.max(peak, peaks[i]);
      const h = Math.max(1, (peak / loudest) * (height - 4));
      ctx.fillRect(x0 + c, top + (height - h) / 2, 1, h);
    }
  }

  function layout() {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    drawLane(ctx, sides.left, 0, height / 2 - 2, width);
    drawLane(ctx, sides.right, height / 2 + 2, height / 2 - 2, width);
    durationOut.textContent = clock(duration());
    track.setAttribute("aria-valuemax", duration().toFixed(1));
    placeMarkers();
    render();
  }

  function render() {
    const t = now();
    const total = duration();
    playhead.style.left = `${(t / total) * 100}%`;
    timeOut.textContent = clock(t);
    if (commentTime) commentTime.textContent = clock(t);
    track.setAttribute("aria-valuenow", t.toFixed(1));
    track.setAttribute("aria-valuetext", clock(t));
    playIcon.toggleAttribute("hidden", playing);
    pauseIcon.toggleAttribute("hidden", !playing);
    playButton.setAttribute("aria-label", playing ? "Pause" : "Play");
    if (loopA !== null) {
      const b = loopB ?? t;
      loopRegion.hidden = false;
      loopRegion.style.left = `${(Math.min(loopA, b) / total) * 100}%`;
      loopRegion.style.width = `${(Math.abs(b - loopA) / total) * 100}%`;
    } else {
      loopRegion.hidden = true;
    }
  }

  function timeAt(clientX) {
    const box = track.getBoundingClientRect();
    return ((clientX - box.left) / box.width) * duration();
  }

  let drag = null;
  track.addEventListener("pointerdown", (event) => {
    if (event.target.closest(".marker")) return;
    const box = canvas.getBoundingClientRect();
    const onReplyLane = config.can_sync && event.clientY > box.top + box.height / 2;
    drag = { x: event.clientX, offset, total: duration(), moved: false, onReplyLane, width: box.width };
    track.setPointerCapture(event.pointerId);
  });
  track.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    if (Math.abs(dx) > 3) drag.moved = true;
    if (!drag.moved) return;
    if (drag.onReplyLane) {
      // Dragging the reply's waveform slides the reply against the demonstration.
      setOffset(drag.offset + (dx / drag.width) * drag.total);
    } else {
      seek(timeAt(event.clientX));
    }
  });
  track.addEventListener("pointerup", (event) => {
    if (drag && !drag.moved) seek(timeAt(event.clientX));
    drag = null;
  });
  track.addEventListener("keydown", (event) => {
    if (event.key === "Home") { seek(0); event.preventDefault(); }
    if (event.key === "End") { seek(duration()); event.preventDefault(); }
  });

  /* --- Comments ------------------------------------------------------------------------- */

  let threads = [];
  const threadsList = $("[data-threads]");
  const noComments = $("[data-no-comments]");
  const form = $("[data-comment-form]");
  const formBody = $("[data-comment-body]");
  const formSide = $("[data-comment-side]");
  const formTime = $("[data-form-time]");
  const formError = $("[data-comment-error]");
  let pendingT = 0;

  function commentT(comment) {
    return comment.side === "reply" ? comment.at_ms / 1000 + offset : comment.at_ms / 1000;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function placeMarkers() {
    markersBox.replaceChildren();
    const total = duration();
    for (const comment of threads) {
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
    for (const thread of threads) {
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
    noComments.hidden = threads.length > 0;
    placeMarkers();
  }

  async function loadComments() {
    try {
      threads = await api(config.api.comments);
      threads.sort((a, b) => commentT(a) - commentT(b));
      renderThreads();
    } catch (error) {
      noComments.textContent = `Comments could not be loaded: ${error.message}`;
    }
  }

  function openCommentForm() {
    pause();
    pendingT = now();
    formTime.textContent = clock(pendingT);
    form.hidden = false;
    formError.textContent = "";
    formBody.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const side = formSide.value;
    const position = side === "reply" ? Math.max(0, pendingT - offset) : pendingT;
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

  /* --- Controls and keys ---------------------------------------------------------------- */

  playButton.addEventListener("click", () => (playing ? pause() : play()));
  $$("[data-frame]").forEach((b) => b.addEventListener("click", () => { pause(); seek(now() + Number(b.dataset.frame) * FRAME); }));
  $("[data-speed]").addEventListener("change", (e) => setRate(Number(e.target.value)));
  const loopClear = $("[data-loop-clear]");
  function setLoop(which) {
    const t = now();
    if (which === "a") { loopA = t; if (loopB !== null && loopB <= loopA) loopB = null; }
    if (which === "b" && loopA !== null && t > loopA) loopB = t;
    if (which === "clear") { loopA = null; loopB = null; }
    $("[data-loop-a]").classList.toggle("active", loopA !== null);
    $("[data-loop-b]").classList.toggle("active", loopB !== null);
    loopClear.hidden = loopA === null;
    render();
  }
  $("[data-loop-a]").addEventListener("click", () => setLoop("a"));
  $("[data-loop-b]").addEventListener("click", () => setLoop("b"));
  loopClear.addEventListener("click", () => setLoop("clear"));

  const stage = $("[data-stage]");
  const viewToggle = $("[data-view-toggle]");
  const opacityWrap = $("[data-opacity-wrap]");
  viewToggle.addEventListener("click", () => {
    const overlay = !stage.classList.contains("overlay");
    stage.classList.toggle("overlay", overlay);
    stage.classList.toggle("side-by-side", !overlay);
    viewToggle.setAttribute("aria-pressed", String(overlay));
    opacityWrap.hidden = !overlay;
  });
  $("[data-opacity]").addEventListener("input", (e) => stage.style.setProperty("--overlay-opacity", e.target.value));
  if (!sides.left.el || !sides.right.el || !sides.left.el.matches("video") || !sides.right.el.matches("video")) {
    viewToggle.hidden = true;
  }

  $$("[data-volume]").forEach((input) => input.addEventListener("input", () => { sides[input.dataset.volume].volume = Number(input.value); applyMix(); }));
  $$("[data-mute]").forEach((b) => b.addEventListener("click", () => { const s = sides[b.dataset.mute]; s.muted = !s.muted; applyMix(); }));
  $$("[data-solo]").forEach((b) => b.addEventListener("click", () => { const s = sides[b.dataset.solo]; s.solo = !s.solo; applyMix(); }));
  $$("[data-nudge]").forEach((b) => b.addEventListener("click", () => setOffset(offset + Number(b.dataset.nudge) / 1000)));

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target.closest("input, textarea, select, [contenteditable]")) {
      if (event.key === "Escape" && !form.hidden) form.hidden = true;
      return;
    }
    const step = event.shiftKey ? 5 : 1;
    const keys = {
      " ": () => (playing ? pause() : play()),
      ArrowLeft: () => seek(now() - step),
      ArrowRight: () => seek(now() + step),
      ",": () => { pause(); seek(now() - FRAME); },
      ".": () => { pause(); seek(now() + FRAME); },
      "[": () => setLoop("a"),
      "]": () => setLoop("b"),
      Escape: () => setLoop("clear"),
      c: openCommentForm,
    };
    const action = keys[event.key];
    if (!action) return;
    if (event.key === " " && target.closest("button")) target.blur();
    event.preventDefault();
    action();
  });

  // A comment posted elsewhere (live.js relays it from the websocket): show the new thread.
  document.addEventListener("practika:remote-comment", (event) => {
    event.preventDefault(); // tells live.js that this page shows it itself
    loadComments();
  });

  window.addEventListener("resize", layout);
  applyMix();
  layout();
  loadComments();
  requestAnimationFrame(loop);
  root.dataset.ready = "true";

  // For people and tests alike: where each side is, in its own seconds.
  window.PractikaCompare = {
    positions: () => ({ t: now(), left: sides.left.el?.currentTime, right: sides.right.el?.currentTime, offset }),
    stats: () => Object.fromEntries(["left", "right"].map((n) => [n, { seeks: sides[n].seeks, seekLatency: sides[n].seekLatency, drift: sides[n].drift, rate: sides[n].el?.playbackRate }])),
    play, pause, seek,
  };
})();

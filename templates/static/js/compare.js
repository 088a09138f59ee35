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
 * Auto-sync (issue 6). When the reply's alignment to the demonstration is ready, a toggle makes
 * the reply's position follow the alignment's time map instead of the fixed offset:
 *     right position = replyAt(t)          (t stays the demonstration's seconds)
 * The leader (the master clock above) plays at the chosen speed; the follower's playbackRate is
 * the leader's times the map's local slope, with a proportional correction of at most ±10 %;
 * more than 300 ms off (after a seek, a loop's wrap, a pause in the reply), it is moved.
 * Where the demonstration has ended (or not begun) the reply leads and t = demoAt(reply).
 * Comments show on the other side's lane at the mapped moment; timing and pitch bands (advisory)
 * are drawn over the reply's lane and listed below the timeline.
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
  const AUTO_SEEK_THRESHOLD = 0.3; // seconds off the map before the follower is moved
  const AUTO_GAIN = 0.5; // relative rate correction per second of error
  const AUTO_MAX = 0.1;
  const POLL_MS = 3000; // while the alignment is being computed

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

  /* --- Time map (auto-sync) ------------------------------------------------------------- */

  // Piecewise-linear reading of a non-decreasing map, as learning/alignment/timemap.py reads
  // it: at a step the later point wins; outside the map both sides run at the same speed.
  function mapTime(xs, ys, x) {
    const n = xs.length; if (!n) return x;
    if (x < xs[0]) return ys[0] + (x - xs[0]);
    if (x > xs[n - 1]) return ys[n - 1] + (x - xs[n - 1]);
    let lo = 0, hi = n - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (xs[mid] <= x) lo = mid; else hi = mid - 1; }
    if (lo >= n - 1) return ys[n - 1];
    const span = xs[lo + 1] - xs[lo];
    return span > 0 ? ys[lo] + (x - xs[lo]) / span * (ys[lo + 1] - ys[lo]) : ys[lo + 1];
  }

  let timeMap = null; // {demo_ms: [...], reply_ms: [...]} once the alignment is ready
  let autoSync = false;
  const hasMap = () => Boolean(timeMap && timeMap.demo_ms.length);
  const mapped = () => autoSync && hasMap();
  const replyAtMs = (ms) => (hasMap() ? mapTime(timeMap.demo_ms, timeMap.reply_ms, ms) : ms);
  const demoAtMs = (ms) => (hasMap() ? mapTime(timeMap.reply_ms, timeMap.demo_ms, ms) : ms);
  const replyAt = (seconds) => replyAtMs(seconds * 1000) / 1000;
  const demoAt = (seconds) => demoAtMs(seconds * 1000) / 1000;

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
      pos(t) { return name === "left" ? t : (mapped() ? replyAt(t) : t - offset); },
      toT(position) { return name === "left" ? position : (mapped() ? demoAt(position) : position + offset); },
      // Seconds of this side per second of t around t (the map's local slope).
      slope(t) { return name === "left" || !mapped() ? 1 : replyAt(t + 0.5) - replyAt(t - 0.5); },
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
    const rightEnd = mapped() ? demoAt(sides.right.duration) : sides.right.duration + offset;
    return Math.max(sides.left.duration, rightEnd, 0.001);
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
  function moveElement(side, target, lead = side.el.paused ? 0 : side.seekLatency * rate) {
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
    if (mapped()) { followMap(side, t, master); return; }
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

  // Auto-sync: steer the follower's rate along the map; move it only when far off. A moved
  // element lands where the leader will be once the seek is over (the measured latency).
  function followMap(side, t, master) {
    const target = side.pos(t);
    if (!side.inRange(t)) {
      if (!side.el.paused) side.el.pause();
      if (target < 0 && side.el.currentTime > 0.001) side.el.currentTime = 0;
      return;
    }
    const ahead = (seconds) => side.pos(t + seconds);
    if (side.el.paused) { startElement(side, ahead(side.seekLatency * rate)); return; }
    if (side.el.seeking || side.el.readyState < 3 || performance.now() < side.cooldownUntil) return;
    const error = target - side.el.currentTime; // > 0: the follower is behind
    side.drift = -error;
    if (Math.abs(error) > AUTO_SEEK_THRESHOLD) {
      side.el.playbackRate = rate;
      moveElement(side, ahead(side.seekLatency * rate), 0);
      return;
    }
    // The leader plays at `rate` of its own seconds; t then runs at rate / leaderSlope.
    const leaderSlope = master ? Math.max(0.05, master.slope(t)) : 1;
    const slope = Math.max(0, side.slope(t)) / leaderSlope;
    const correction = Math.max(-AUTO_MAX, Math.min(AUTO_MAX, error * AUTO_GAIN));
    side.el.playbackRate = Math.max(0.5, Math.min(2, rate * slope * (1 + correction)));
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
    // Touching the manual offset means manual sync: auto-sync steps aside.
    if (autoSync) { autoTouched = true; setAutoSync(false); }
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

  // The reply's lane under auto-sync: each column shows the reply's sound at the moment the map
  // puts under it, so both waveforms line up note for note.
  function drawMappedLane(ctx, side, top, height, width) {
    const peaks = side.peaks;
    const total = duration();
    ctx.fillStyle = COLORS.grid;
    ctx.fillRect(0, top + height / 2, width, 1);
    if (!side.duration) return;
    ctx.fillStyle = "rgba(240,163,94,.1)";
    ctx.fillRect(0, top, width, height);
    ctx.fillStyle = COLORS[side.name];
    if (!peaks.length) return;
    const loudest = Math.max(0.05, ...peaks);
    const perSecond = peaks.length / side.duration;
    for (let c = 0; c < Math.round(width); c += 1) {
      const r0 = replyAt((c / width) * total);
      const r1 = replyAt(((c + 1) / width) * total);
      if (r1 < 0 || r0 >= side.duration) continue;
      const from = Math.max(0, Math.floor(r0 * perSecond));
      const to = Math.min(peaks.length, Math.max(from + 1, Math.floor(r1 * perSecond)));
      let peak = 0;
      for (let i = from; i < to; i += 1) peak = Math.max(peak, peaks[i]);
      const h = Math.max(1, (peak / loudest) * (height - 4));
      ctx.fillRect(c, top + (height - h) / 2, 1, h);
    }
  }

  function drawLane(ctx, side, top, height, width) {
    if (side.name === "right" && mapped()) { drawMappedLane(ctx, side, top, height, width); return; }
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
    placeBands();
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
    if (event.target.closest(".marker, .mapped-marker")) return;
    const box = canvas.getBoundingClientRect();
    const onReplyLane = config.can_sync && !mapped() && event.clientY > box.top + box.height / 2;
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
    return comment.side === "reply" ? sides.right.toT(comment.at_ms / 1000) : comment.at_ms / 1000;
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
    for (const comment of threads) {
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

  /* --- Alignment: auto-sync, bands, summary --------------------------------------------- */

  const BAND_NAMES = { rushed: "Rushed", dragged: "Dragged", missing: "Missing", extra: "Extra", flat: "Flat", sharp: "Sharp" };
  const bandsBox = $("[data-bands]");
  const bandList = $("[data-band-list]");
  const autoToggle = $("[data-autosync]");
  const autoState = $("[data-autosync-state]");
  const analysis = $("[data-analysis]");
  let alignment = null;
  let autoTouched = false;

  function setAutoSync(on) {
    const t = now();
    autoSync = Boolean(on) && hasMap();
    if (autoToggle) autoToggle.checked = autoSync;
    root.dataset.autoSync = autoSync ? "on" : "off";
    root.querySelector("[data-sync]")?.classList.toggle("inactive", autoSync);
    seek(t); // both sides to the same moment under the new rule
    layout();
  }

  function placeBands() {
    if (!bandsBox) return;
    bandsBox.replaceChildren();
    const bands = (alignment && alignment.bands) || [];
    const total = duration();
    for (const band of bands) {
      // Over the reply's lane, where the reply played it; a missing passage has no reply
      // time, so it spans the demonstration's.
      let t0 = band.start_ms / 1000;
      let t1 = band.end_ms / 1000;
      if (!mapped() && band.reply_end_ms > band.reply_start_ms) {
        t0 = sides.right.toT(band.reply_start_ms / 1000);
        t1 = sides.right.toT(band.reply_end_ms / 1000);
      }
      const node = element("div", `band band-${band.kind}`);
      node.style.left = `${Math.max(0, (t0 / total) * 100)}%`;
      node.style.width = `max(3px, ${Math.max(0, ((t1 - t0) / total) * 100)}%)`;
      node.title = `${BAND_NAMES[band.kind] || band.kind}, ${clock(band.start_ms / 1000)}–${clock(band.end_ms / 1000)}: ${band.message}`;
      node.dataset.kind = band.kind;
      bandsBox.append(node);
    }
  }

  function renderBandList() {
    if (!bandList) return;
    bandList.replaceChildren();
    const bands = (alignment && alignment.bands) || [];
    for (const band of bands) {
      const item = element("li", `band-item band-${band.kind}`);
      const at = element("button", "link", `${clock(band.start_ms / 1000)}–${clock(band.end_ms / 1000)}`);
      at.type = "button";
      at.title = "Play from here";
      at.addEventListener("click", () => seek(band.start_ms / 1000));
      item.append(element("span", `swatch band-${band.kind}`), at, element("strong", "", ` ${BAND_NAMES[band.kind] || band.kind}: `), element("span", "", band.message));
      bandList.append(item);
    }
    const empty = $("[data-bands-empty]");
    if (empty) empty.hidden = !(alignment && alignment.status === "ready" && !alignment.feedback_hidden && !bands.length);
  }

  const percent = (share) => `${Math.round(share * 100)} %`;

  function summaryLines(summary, transposition) {
    const lines = [];
    const ratio = summary.tempo_ratio;
    if (ratio) {
      const change = Math.round(Math.abs(ratio - 1) * 100);
      lines.push(change < 3 ? "Overall tempo: close to the demonstration." : `Overall tempo: about ${change} % ${ratio > 1 ? "faster" : "slower"} than the demonstration.`);
    }
    lines.push(`Timing: differs noticeably in about ${percent(summary.timing_flagged_share || 0)} of the piece.`);
    if (summary.pitch_checked) {
      const cents = summary.median_abs_cents === null ? "" : ` (typically ${Math.round(summary.median_abs_cents)} cents off)`;
      lines.push(`Pitch: off by more than the threshold in about ${percent(summary.pitch_flagged_share || 0)} of the piece${cents}.`);
    } else {
      lines.push("Pitch: not checked (it is checked for a single melody line only).");
    }
    if (transposition) lines.push(`Played ${Math.abs(transposition)} semitone${Math.abs(transposition) === 1 ? "" : "s"} ${transposition > 0 ? "higher" : "lower"} than the demonstration.`);
    return lines;
  }

  function trendWord(before, after) {
    if (before === null || before === undefined || after === null || after === undefined) return null;
    if (after < before - 0.02) return "improving";
    if (after > before + 0.02) return "needs more attention than last time";
    return "about the same as last time";
  }

  function renderAnalysis() {
    if (!analysis || !alignment) return;
    const a = alignment;
    const status = $("[data-align-status]");
    const ready = a.status === "ready";
    analysis.dataset.status = a.status;
    if (status) {
      status.textContent = a.status === "pending" ? "Analysing the recordings…"
        : ready ? (a.feedback_hidden ? "" : "Advisory: an automatic reading of the two recordings, not a grade.")
        : a.reason || "The reply could not be aligned automatically.";
    }
    if (autoToggle) autoToggle.disabled = !ready || !hasMap();
    if (autoState) {
      autoState.textContent = a.status === "pending" ? "Analysing…"
        : ready ? "" : (a.reason || "Not aligned: use the manual sync.");
    }
    const summaryBox = $("[data-align-summary]");
    if (summaryBox) {
      summaryBox.replaceChildren();
      if (ready && a.summary) for (const line of summaryLines(a.summary, a.transposition_semitones)) summaryBox.append(element("li", "", line));
    }
    const visible = $("[data-align-visible]");
    if (visible) { visible.checked = a.visible_to_student; visible.disabled = !ready && a.status !== "not_aligned"; }
    const trend = $("[data-align-trend]");
    if (trend) {
      trend.replaceChildren();
      const attempts = a.attempts || [];
      if (attempts.length > 1) {
        for (const item of attempts) {
          const s = item.summary || {};
          const pitch = s.pitch_checked ? ` · pitch differs in ${percent(s.pitch_flagged_share || 0)}` : "";
          trend.append(element("li", "", `Attempt ${item.attempt}: timing differs in ${percent(s.timing_flagged_share || 0)}${pitch}`));
        }
        const [before, after] = [attempts[attempts.length - 2].summary || {}, attempts[attempts.length - 1].summary || {}];
        const timing = trendWord(before.timing_flagged_share, after.timing_flagged_share);
        const pitchWord = trendWord(before.pitch_flagged_share, after.pitch_flagged_share);
        const words = [timing && `timing ${timing}`, pitchWord && `pitch ${pitchWord}`].filter(Boolean);
        if (words.length) trend.append(element("li", "trend-word", `Latest attempt: ${words.join("; ")}.`));
      }
    }
    const legend = $("[data-band-legend]");
    if (legend) legend.hidden = !(ready && !a.feedback_hidden);
    renderBandList();
    placeBands();
  }

  async function loadAlignment() {
    if (!config.api.alignment) return;
    try {
      alignment = await api(config.api.alignment);
    } catch (error) {
      alignment = { status: "failed", reason: `The analysis could not be loaded: ${error.message}`, bands: [] };
    }
    const ready = alignment.status === "ready" && alignment.time_map && alignment.time_map.demo_ms.length;
    timeMap = ready ? alignment.time_map : null;
    root.dataset.alignment = alignment.status;
    renderAnalysis();
    // On by default, unless someone lined the reply up by hand: a saved offset is a choice.
    const manualChosen = config.can_sync && Math.round(offset * 1000) !== 0;
    if (ready && !autoTouched && !autoSync && !manualChosen && alignment.confidence !== null) setAutoSync(true);
    else if (!ready && autoSync) setAutoSync(false);
    else layout();
    if (alignment.status === "pending") setTimeout(loadAlignment, POLL_MS);
  }

  if (autoToggle) autoToggle.addEventListener("change", () => { autoTouched = true; setAutoSync(autoToggle.checked); });
  const visibleToggle = $("[data-align-visible]");
  if (visibleToggle) visibleToggle.addEventListener("change", async () => {
    const saved = $("[data-align-visible-saved]");
    try {
      alignment = await api(config.api.alignment, { method: "PATCH", body: JSON.stringify({ visible_to_student: visibleToggle.checked }) });
      if (saved) saved.textContent = visibleToggle.checked ? "Shown to the student" : "Hidden from the student";
    } catch (error) {
      visibleToggle.checked = !visibleToggle.checked;
      if (saved) saved.textContent = error.message;
    }
  });
  const recompute = $("[data-align-recompute]");
  if (recompute) recompute.addEventListener("click", async () => {
    try {
      await api(config.api.alignment, { method: "POST" });
      await loadAlignment();
    } catch (error) { alert(error.message); }
  });

  window.addEventListener("resize", layout);
  applyMix();
  layout();
  loadComments();
  loadAlignment();
  requestAnimationFrame(loop);
  root.dataset.ready = "true";

  // For people and tests alike: where each side is, in its own seconds.
  window.PractikaCompare = {
    positions: () => ({ t: now(), left: sides.left.el?.currentTime, right: sides.right.el?.currentTime, offset, autoSync }),
    replyAt: (seconds) => replyAt(seconds),
    setAutoSync,
    stats: () => Object.fromEntries(["left", "right"].map((n) => [n, { seeks: sides[n].seeks, seekLatency: sides[n].seekLatency, drift: sides[n].drift, rate: sides[n].el?.playbackRate }])),
    play, pause, seek,
  };
})();

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
 * Sync. One element is the master clock (the leader): the left one while `t` lies within it,
 * otherwise the right one, otherwise (both out of range, e.g. a gap before a late reply) a wall
 * clock. Every animation frame the other element (the follower) is steered towards where it
 * should be by small playback-rate corrections (at most ±8 %, lib/follow.js); it is moved
 * (currentTime) only when it is more than 0.35 s off (a loop's wrap, a stall), since a musician
 * hears every jump. Pitch is preserved at every speed.
 *
 * Auto-sync (issue 6). When the reply's alignment to the demonstration is ready, a toggle makes
 * the reply's position follow the alignment's time map instead of the fixed offset:
 *     right position = replyAt(t)          (t stays the demonstration's seconds)
 * The follower is steered the same way, its rate the leader's times the map's local slope.
 * Where the demonstration has ended (or not begun) the reply leads and t = demoAt(reply).
 * Comments are anchored to their own side's time and show on the other side's lane at the
 * mapped moment; they are placed once the alignment has answered, so every load agrees. A
 * link with ?comment=<id> opens the page at that comment's moment. Timing and pitch bands
 * (advisory) are drawn over the reply's lane and listed below the timeline.
 *
 * Safety. Comments are people's text: they are only ever put on the page with textContent.
 *
 * Modules (ES modules, loaded with <script type="module">; no bundler). Each imports only modules
 * listed above it (and lib/), so the imports form no cycle, which the hashed file names of the
 * production static files need (tests/js/imports.test.mjs checks it):
 *   compare/state.js      the page's config, root and shared state; the time map under auto-sync
 *   compare/events.js     hooks ("layout", "render") by which a lower module asks upper ones to
 *                         redraw without importing them
 *   compare/fit.js        the stage's height, so pictures, transport and timeline fit the window
 *   compare/sides.js      the two sides (position of each at t)
 *   compare/transport.js  play, pause, seek, loop points, and keeping the sides together
 *                         (the follower's rule is lib/follow.js)
 *   compare/drawing.js    marks drawn on a paused frame, shown over the video near their
 *                         comment's moment (lib/shapes.js: the geometry)
 *   compare/media_comment.js  teachers' voice and video notes: recording them into the
 *                         comment form, playing them in the threads
 *   compare/peer_review.js  peer comments marked, and hidden or shown by teachers
 *   compare/comments.js   time-coded comments
 *   compare/library.js    the feedback library: saved comments inserted into the comment box
 *   compare/bands.js      the timing and pitch bands' names (from the page's legend)
 *   compare/analysis.js   the analysis panel (bands listed, summary, trend); compare/summary.js
 *                         its words. Loaded by alignment.js with import() once the alignment
 *                         has answered: nothing in it is needed to play
 *   compare/alignment.js  auto-sync and the bands on the timeline
 *   compare/offset.js     the manual sync offset, saved through the API
 *   compare/timeline.js   waveforms, playhead, seeking and sliding on the timeline
 *   compare/controls.js   buttons, mixer and keys
 *   compare/rubric.js     the rubric panel: scores picked and saved (imports only lib/)
 * This entry imports them and wires them up (the init order is the order the hooks run in).
 * The helpers the pages share are in lib/ (api, csrf, clock, timemap, format, dom, follow).
 */

import { initAlignment, loadAlignment, setAutoSync } from "./compare/alignment.js";
import { initComments, loadComments, openLinkedMoment } from "./compare/comments.js";
import { applyMix, initControls } from "./compare/controls.js";
import { initDrawing } from "./compare/drawing.js";
import { emit, schedule } from "./compare/events.js";
import { initFit } from "./compare/fit.js";
import { initLibrary } from "./compare/library.js";
import { initSides, sides } from "./compare/sides.js";
import { config, replyAt, root, state } from "./compare/state.js";
import { initTimeline } from "./compare/timeline.js";
import "./compare/rubric.js";
import { now, pause, play, seek, startTransport } from "./compare/transport.js";

if (config && root) {
  initFit();
  initSides();
  startTransport();
  initTimeline();
  initComments();
  initDrawing();
  initLibrary();
  initControls();
  initAlignment();

  window.addEventListener("resize", () => schedule("layout"));
  applyMix();
  emit("layout");
  // The comments are placed once the alignment's first answer (and so the sync mode) is in,
  // whichever of the two requests answers first.
  const alignmentSettled = loadAlignment();
  loadComments({ after: alignmentSettled }).then(openLinkedMoment);
  root.dataset.ready = "true";

  // For people and tests alike: where each side is, in its own seconds.
  window.PractikaCompare = {
    positions: () => ({ t: now(), left: sides.left.el?.currentTime, right: sides.right.el?.currentTime, offset: state.offset, autoSync: state.autoSync }),
    replyAt: (seconds) => replyAt(seconds),
    setAutoSync,
    stats: () => Object.fromEntries(["left", "right"].map((n) => [n, { seeks: sides[n].seeks, seekLatency: sides[n].seekLatency, drift: sides[n].drift, rate: sides[n].el?.playbackRate, seekTimes: [...sides[n].seekTimes] }])),
    play, pause, seek,
  };
}

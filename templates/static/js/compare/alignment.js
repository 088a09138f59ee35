// The alignment of the reply to the demonstration (issue 6): auto-sync along its time map, the
// timing and pitch bands (advisory) over the reply's lane and listed below, and the summary.
import { api } from "../lib/api.js";
import { clock } from "../lib/clock.js";
import { element } from "../lib/dom.js";
import { percent } from "../lib/format.js";
import { on, schedule } from "./events.js";
import { duration, sides } from "./sides.js";
import { $, config, hasMap, mapped, root, state } from "./state.js";
import { summaryLines, trendWord } from "./summary.js";
import { now, seek } from "./transport.js";

const POLL_MS = 3000; // while the alignment is being computed

// The bands' names come from the page's legend, which the server renders from the one list in
// Python (learning.views.BAND_KINDS): JavaScript keeps no copy of them.
const BAND_NAMES = Object.fromEntries(
  [...document.querySelectorAll("[data-band-legend] li")].map((item) => [
    (item.querySelector(".swatch")?.className.match(/\bband-(\w+)/) || [])[1],
    item.querySelector("strong")?.textContent.trim(),
  ]).filter(([kind, name]) => kind && name),
);
const bandName = (kind) => BAND_NAMES[kind] || kind;

const bandsBox = $("[data-bands]");
const bandList = $("[data-band-list]");
const autoToggle = $("[data-autosync]");
const autoState = $("[data-autosync-state]");
const analysis = $("[data-analysis]");

export function setAutoSync(on) {
  const t = now();
  state.autoSync = Boolean(on) && hasMap();
  if (autoToggle) autoToggle.checked = state.autoSync;
  root.dataset.autoSync = state.autoSync ? "on" : "off";
  root.querySelector("[data-sync]")?.classList.toggle("inactive", state.autoSync);
  seek(t); // both sides to the same moment under the new rule
  schedule("layout");
}

export function placeBands() {
  if (!bandsBox) return;
  bandsBox.replaceChildren();
  const bands = (state.alignment && state.alignment.bands) || [];
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
    node.title = `${bandName(band.kind)}, ${clock(band.start_ms / 1000)}–${clock(band.end_ms / 1000)}: ${band.message}`;
    node.dataset.kind = band.kind;
    bandsBox.append(node);
  }
}

function renderBandList() {
  if (!bandList) return;
  bandList.replaceChildren();
  const bands = (state.alignment && state.alignment.bands) || [];
  for (const band of bands) {
    const item = element("li", `band-item band-${band.kind}`);
    const at = element("button", "link", `${clock(band.start_ms / 1000)}–${clock(band.end_ms / 1000)}`);
    at.type = "button";
    at.title = "Play from here";
    at.addEventListener("click", () => seek(band.start_ms / 1000));
    item.append(element("span", `swatch band-${band.kind}`), at, element("strong", "", ` ${bandName(band.kind)}: `), element("span", "", band.message));
    bandList.append(item);
  }
  const empty = $("[data-bands-empty]");
  if (empty) empty.hidden = !(state.alignment && state.alignment.status === "ready" && !state.alignment.feedback_hidden && !bands.length);
}

function renderAnalysis() {
  if (!analysis || !state.alignment) return;
  const a = state.alignment;
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

export async function loadAlignment() {
  if (!config.api.alignment) return;
  try {
    state.alignment = await api(config.api.alignment);
  } catch (error) {
    state.alignment = { status: "failed", reason: `The analysis could not be loaded: ${error.message}`, bands: [] };
  }
  const ready = state.alignment.status === "ready" && state.alignment.time_map && state.alignment.time_map.demo_ms.length;
  state.timeMap = ready ? state.alignment.time_map : null;
  root.dataset.alignment = state.alignment.status;
  renderAnalysis();
  // On by default, unless someone lined the reply up by hand: a saved offset is a choice.
  const manualChosen = config.can_sync && Math.round(state.offset * 1000) !== 0;
  if (ready && !state.autoTouched && !state.autoSync && !manualChosen && state.alignment.confidence !== null) setAutoSync(true);
  else if (!ready && state.autoSync) setAutoSync(false);
  else schedule("layout");
  if (state.alignment.status === "pending") setTimeout(loadAlignment, POLL_MS);
}

export function initAlignment() {
  on("layout", placeBands);
  if (autoToggle) autoToggle.addEventListener("change", () => { state.autoTouched = true; setAutoSync(autoToggle.checked); });
  const visibleToggle = $("[data-align-visible]");
  if (visibleToggle) visibleToggle.addEventListener("change", async () => {
    const saved = $("[data-align-visible-saved]");
    try {
      state.alignment = await api(config.api.alignment, { method: "PATCH", body: JSON.stringify({ visible_to_student: visibleToggle.checked }) });
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
}

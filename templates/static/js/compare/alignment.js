// The alignment of the reply to the demonstration (issue 6): auto-sync along its time map and
// the timing and pitch bands (advisory) over the reply's lane; the panel that lists them, with
// the summary, is compare/analysis.js, loaded when the alignment has answered.
import { api } from "../lib/api.js";
import { clock } from "../lib/clock.js";
import { element } from "../lib/dom.js";
import { bandName } from "./bands.js";
import { on, schedule } from "./events.js";
import { duration, sides } from "./sides.js";
import { $, config, hasMap, mapped, root, state } from "./state.js";
import { now, seek } from "./transport.js";

const POLL_MS = 3000; // while the alignment is being computed

const bandsBox = $("[data-bands]");
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

// The analysis panel below the timeline (band list, summary, trend) is not needed to play:
// its module is loaded once the alignment has answered, off the page's startup.
let panel = null;
function renderAnalysis() {
  if (!state.alignment) return;
  if (autoToggle) autoToggle.disabled = state.alignment.status !== "ready" || !hasMap();
  if (autoState) {
    const a = state.alignment;
    autoState.textContent = a.status === "pending" ? "Analysing…"
      : a.status === "ready" ? "" : (a.reason || "Not aligned: use the manual sync.");
  }
  placeBands();
  if (!analysis) return;
  panel = panel || import("./analysis.js");
  panel.then((module) => module.renderPanel()).catch(() => {});
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

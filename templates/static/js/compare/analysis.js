// The analysis panel under the timeline (issue 6): the timing and pitch bands listed (each a
// button that plays from there), the teacher's summary in words, the student's trend across
// attempts and the legend. Loaded by compare/alignment.js once the alignment has answered:
// nothing here is needed to play.
import { clock } from "../lib/clock.js";
import { element } from "../lib/dom.js";
import { percent } from "../lib/format.js";
import { bandName } from "./bands.js";
import { renderRoll } from "./pianoroll.js";
import { $, state } from "./state.js";
import { summaryLines, trendWord } from "./summary.js";
import { seek } from "./transport.js";

const analysis = $("[data-analysis]");
const bandList = $("[data-band-list]");

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

export function renderPanel() {
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
  renderRoll();
}

// The alignment's summary in words, for the teacher. Pure: tested with `node --test tests/js/`.
import { clock } from "../lib/clock.js";
import { percent } from "../lib/format.js";

const plural = (n, word) => `${n} ${word}`;

// Wrong, missed and extra notes (issue 14), with the first few named.
export function notesLine(notes) {
  if (!notes || !notes.checked) return null;
  const total = notes.wrong + notes.missed + notes.extra;
  if (!total) return `Notes: the reply's notes match the demonstration's (${notes.demo_notes} notes read).`;
  const parts = [plural(notes.wrong, "wrong"), plural(notes.missed, "missed"), plural(notes.extra, "extra")];
  const examples = (notes.examples || []).map((e) => `${clock(e.at_ms / 1000)} ${e.message.replace(/\.$/, "")}`);
  const more = total > examples.length ? "; and more" : "";
  return `Notes: ${parts.join(", ")} (of ${notes.demo_notes} read in the demonstration)${examples.length ? `: ${examples.join("; ")}${more}` : ""}.`;
}

export function summaryLines(summary, transposition) {
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
  const notes = notesLine(summary.notes);
  if (notes) lines.push(notes);
  if (transposition) lines.push(`Played ${Math.abs(transposition)} semitone${Math.abs(transposition) === 1 ? "" : "s"} ${transposition > 0 ? "higher" : "lower"} than the demonstration.`);
  return lines;
}

export function trendWord(before, after) {
  if (before === null || before === undefined || after === null || after === undefined) return null;
  if (after < before - 0.02) return "improving";
  if (after > before + 0.02) return "needs more attention than last time";
  return "about the same as last time";
}

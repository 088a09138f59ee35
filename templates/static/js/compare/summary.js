// The alignment's summary in words, for the teacher. Pure: tested with `node --test tests/js/`.
import { percent } from "../lib/format.js";

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
  if (transposition) lines.push(`Played ${Math.abs(transposition)} semitone${Math.abs(transposition) === 1 ? "" : "s"} ${transposition > 0 ? "higher" : "lower"} than the demonstration.`);
  return lines;
}

export function trendWord(before, after) {
  if (before === null || before === undefined || after === null || after === undefined) return null;
  if (after < before - 0.02) return "improving";
  if (after > before + 0.02) return "needs more attention than last time";
  return "about the same as last time";
}

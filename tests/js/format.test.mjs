// The pages' pure helpers: clocks, sizes, percentages and the analysis summary in words.
import assert from "node:assert/strict";
import { test } from "node:test";

import { clock, clockWhole } from "../../templates/static/js/lib/clock.js";
import { formatBytes, percent } from "../../templates/static/js/lib/format.js";
import { notesLine, summaryLines, trendWord } from "../../templates/static/js/compare/summary.js";

test("clock shows minutes, seconds and rounded tenths, with a real minus sign", () => {
  assert.equal(clock(0), "0:00.0");
  assert.equal(clock(9.96), "0:10.0");
  assert.equal(clock(61.04), "1:01.0");
  assert.equal(clock(754.35), "12:34.4");
  assert.equal(clock(-1.5), "−0:01.5");
  assert.equal(clock(-0.04), "−0:00.0");
});

test("clockWhole cuts down to whole seconds", () => {
  assert.equal(clockWhole(0), "0:00");
  assert.equal(clockWhole(59.99), "0:59");
  assert.equal(clockWhole(125.2), "2:05");
});

test("formatBytes and percent", () => {
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(1536), "1.5 KB");
  assert.equal(formatBytes(5 * 1024 ** 3), "5.0 GB");
  assert.equal(formatBytes(3 * 1024 ** 4), "3072.0 GB");
  assert.equal(percent(0.123), "12 %");
  assert.equal(percent(1), "100 %");
});

test("the summary names tempo, timing, pitch and transposition", () => {
  const lines = summaryLines(
    { tempo_ratio: 1.2, timing_flagged_share: 0.25, pitch_checked: true, pitch_flagged_share: 0.1, median_abs_cents: 31.6 },
    -2,
  );
  assert.deepEqual(lines, [
    "Overall tempo: about 20 % faster than the demonstration.",
    "Timing: differs noticeably in about 25 % of the piece.",
    "Pitch: off by more than the threshold in about 10 % of the piece (typically 32 cents off).",
    "Played 2 semitones lower than the demonstration.",
  ]);
  const close = summaryLines({ tempo_ratio: 0.98, pitch_checked: false }, 0);
  assert.equal(close[0], "Overall tempo: close to the demonstration.");
  assert.equal(close[2], "Pitch: not checked (it is checked for a single melody line only).");
});

test("the summary names the wrong, missed and extra notes, the first few with their times", () => {
  const notes = {
    checked: true, demo_notes: 120, reply_notes: 118, wrong: 1, missed: 1, extra: 3,
    examples: [
      { kind: "wrong_note", at_ms: 12300, message: "F#4 played as G4." },
      { kind: "missed_note", at_ms: 61000, message: "C5 not played." },
    ],
  };
  assert.equal(
    notesLine(notes),
    "Notes: 1 wrong, 1 missed, 3 extra (of 120 read in the demonstration): 0:12.3 F#4 played as G4; 1:01.0 C5 not played; and more.",
  );
  assert.equal(notesLine({ ...notes, wrong: 0, missed: 0, extra: 0, examples: [] }),
    "Notes: the reply's notes match the demonstration's (120 notes read).");
  assert.equal(notesLine(undefined), null);
  const lines = summaryLines({ tempo_ratio: 1, pitch_checked: false, notes }, 0);
  assert.match(lines[3], /^Notes: 1 wrong/);
});

test("trendWord compares two attempts with a margin", () => {
  assert.equal(trendWord(0.3, 0.2), "improving");
  assert.equal(trendWord(0.2, 0.3), "needs more attention than last time");
  assert.equal(trendWord(0.2, 0.21), "about the same as last time");
  assert.equal(trendWord(null, 0.2), null);
});

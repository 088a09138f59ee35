// The compare page's time-map reader against Python's: the fixtures are the Python reader's
// answers (written by tests/learning/test_timemap_fixtures.py), so the two cannot drift.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { demoAtMs, mapTime, replyAtMs } from "../../templates/static/js/lib/timemap.js";

const fixtures = JSON.parse(readFileSync(new URL("./fixtures/timemaps.json", import.meta.url)));

test("the fixtures hold maps to check", () => {
  assert.ok(fixtures.maps.length >= 9);
  for (const map of fixtures.maps) assert.ok(map.reply_at.length > 20 && map.demo_at.length > 20, map.name);
});

for (const { name, time_map: timeMap, reply_at: replyAt, demo_at: demoAt } of fixtures.maps) {
  test(`reads the ${name} map as Python does, within ${fixtures.tolerance_ms} ms`, () => {
    const wrong = [];
    for (const [demo, reply] of replyAt) {
      const got = replyAtMs(timeMap, demo);
      if (!(Math.abs(got - reply) <= fixtures.tolerance_ms)) wrong.push(`replyAt(${demo}) = ${got}, Python ${reply}`);
    }
    for (const [reply, demo] of demoAt) {
      const got = demoAtMs(timeMap, reply);
      if (!(Math.abs(got - demo) <= fixtures.tolerance_ms)) wrong.push(`demoAt(${reply}) = ${got}, Python ${demo}`);
    }
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} readings differ`);
  });
}

test("without a map, both sides keep the same time", () => {
  assert.equal(replyAtMs(null, 1234), 1234);
  assert.equal(demoAtMs({ demo_ms: [], reply_ms: [] }, -20), -20);
  assert.equal(mapTime([], [], 5), 5);
});

// The browser uploader cuts a file into the same parts as the server (fixture written by
// tests/learning/test_part_size_fixtures.py from learning/storage/parts.py).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { partCount, partSizeFor } from "../../templates/static/js/lib/parts.js";

const { cases } = JSON.parse(readFileSync(new URL("./fixtures/part_sizes.json", import.meta.url), "utf8"));

test("the fixture covers small, boundary and huge files", () => {
  assert.ok(cases.length >= 10);
  assert.ok(cases.some((c) => c.part_size > 8 * 1024 * 1024), "a file past 10,000 parts of 8 MiB");
});

test("part size and count match the server's for every size", () => {
  for (const { size, part_size: partSize, count } of cases) {
    assert.equal(partSizeFor(size), partSize, `part size of ${size}`);
    assert.equal(partCount(size, partSizeFor(size)), count, `part count of ${size}`);
  }
});

/** Pure tests of the text and JSON outputs of `ecl read` (lib/format/text.ts, lib/format/json.ts). */
import assert from "node:assert/strict";
import { formatJson, type JsonOutput } from "../lib/format/json.ts";
import {
  compareCodePoints,
  CURRENT_HEADING,
  formatCountLines,
  formatText,
  LAST_HEADING,
} from "../lib/format/text.ts";
import type { Slot } from "../lib/keys.ts";
import type { SlotCounts } from "../lib/reader.ts";
import { STALE_GRACE_SECONDS } from "../lib/slot_health.ts";

const T = 1_700_000_100;
const M5 = { name: "5m", seconds: 300 };

function slot(
  kind: Slot,
  start: number | undefined,
  end: number | undefined,
  counts: [string, number][],
): SlotCounts {
  return {
    group: "g",
    interval: "5m",
    slot: kind,
    start,
    end,
    counts: new Map(counts),
    invalid: new Map([["bad", "hello"]]),
  };
}

Deno.test("compareCodePoints() orders by code point, as Python's sorted() does", () => {
  // U+FF5E sorts before U+1F600 by code point, after it by UTF-16 unit (0xD83D < 0xFF5E).
  const ids = ["😀", "～", "b", "a", "ab", ""];
  assert.deepEqual([...ids].sort(compareCodePoints), ["", "a", "ab", "b", "～", "😀"]);
  assert.equal(compareCodePoints("x", "x"), 0);
});

Deno.test("formatCountLines() prints sorted event:count lines", () => {
  assert.equal(formatCountLines(new Map()), "");
  assert.equal(
    formatCountLines(new Map([["req2", 0], ["a:b", 7], ["req1", 54]])),
    "a:b:7\nreq1:54\nreq2:0\n",
  );
});

Deno.test("formatText() prints one slot bare, and both under Last:/Current: headings", () => {
  const last = slot("last", T - 300, T, [["b", 2], ["a", 1]]);
  const current = slot("cur", T, T + 300, [["a", 5]]);
  assert.equal(formatText({ last }), "a:1\nb:2\n");
  assert.equal(formatText({ current }), "a:5\n");
  assert.equal(
    formatText({ last, current }),
    `${LAST_HEADING}\na:1\nb:2\n${CURRENT_HEADING}\na:5\n`,
  );
  assert.equal(LAST_HEADING, "Last:");
  assert.equal(CURRENT_HEADING, "Current:");
});

Deno.test("formatJson() prints one line with spans, completeness, staleness and sorted counts", () => {
  const last = slot("last", T - 900, T, [["b", 2], ["a", 1]]);
  const current = slot("cur", T, T + 300, [["a", 5]]);
  const text = formatJson(M5, { last, current }, T + 10);
  assert.ok(text.endsWith("}\n") && !text.slice(0, -1).includes("\n"), text);
  const output: JsonOutput = {
    group: "g",
    interval: "5m",
    stale: false,
    last: { start: T - 900, end: T, counts: { a: 1, b: 2 }, complete: false },
    current: { start: T, end: T + 300, counts: { a: 5 } },
  };
  assert.deepEqual(JSON.parse(text), output);
  // Keys in the order written: counts sorted by event ID, `stale` before the slots.
  assert.equal(
    text,
    `{"group":"g","interval":"5m","stale":false,"last":{"start":${
      T - 900
    },"end":${T},"counts":{"a":1,"b":2},"complete":false},"current":{"start":${T},"end":${
      T + 300
    },"counts":{"a":5}}}\n`,
  );
});

Deno.test("formatJson() of an unknown span: nulls, and stale judged on the slot read", () => {
  const never = slot("last", undefined, undefined, []);
  assert.deepEqual(JSON.parse(formatJson(M5, { last: never }, T)), {
    group: "g",
    interval: "5m",
    stale: false,
    last: { start: null, end: null, counts: {}, complete: null },
  });
  const old = slot("cur", T, T + 300, [["a", 1]]);
  const late = T + 300 + STALE_GRACE_SECONDS + 1;
  assert.equal(JSON.parse(formatJson(M5, { current: old }, late)).stale, true);
});

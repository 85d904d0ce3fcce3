/** Pure tests of the text and JSON outputs of `ecl read` (lib/format/text.ts, lib/format/json.ts). */
import assert from "node:assert/strict";
import { formatJson, type JsonOutput } from "../lib/format/json.ts";
import {
  csvField,
  formatHistoryCsv,
  formatHistoryJson,
  formatHistoryText,
} from "../lib/format/history.ts";
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

Deno.test("history formats: text blocks oldest first, JSON periods, CSV per RFC 4180 with a formula guard", () => {
  const periods = [
    { start: 600, end: 900, counts: new Map([["a", 1], ["b,c", 0]]) },
    { start: 900, end: 1200, counts: new Map([["a", 4], ["b,c", 2]]) },
  ];
  assert.equal(
    formatHistoryText(periods, false),
    "1970-01-01T00:10:00Z to 1970-01-01T00:15:00Z:\na:1\nb,c:0\n" +
      "1970-01-01T00:15:00Z to 1970-01-01T00:20:00Z:\na:4\nb,c:2\n",
  );
  // On a terminal, the newest block's lines end in each event's sparkline.
  assert.match(formatHistoryText(periods, true), /\na:4 ▃█\nb,c:2 ▁█\n$/);
  assert.deepEqual(JSON.parse(formatHistoryJson("g", "5m", periods)), {
    group: "g",
    interval: "5m",
    periods: [
      { start: 600, end: 900, counts: { a: 1, "b,c": 0 } },
      { start: 900, end: 1200, counts: { a: 4, "b,c": 2 } },
    ],
  });
  assert.equal(
    formatHistoryCsv(periods),
    'period_start,period_end,event,count\n600,900,a,1\n600,900,"b,c",0\n900,1200,a,4\n900,1200,"b,c",2\n',
  );
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField("=1+2"), "'=1+2");
  assert.equal(csvField("-x"), "'-x");
  assert.equal(csvField("+x,y"), `"'+x,y"`);
  assert.equal(csvField("\tx"), "'\tx");
  assert.equal(csvField("a\tb"), "a\tb");
  assert.equal(
    formatHistoryCsv([{ start: undefined, end: undefined, counts: new Map([["a", 1]]) }]),
    "period_start,period_end,event,count\n,,a,1\n",
  );
});

/** Pure tests of one line of `ecl log --stdin` (lib/commands/_stdin_line.ts). */
import assert from "node:assert/strict";
import { parseStdinLine, type StdinLine } from "../lib/commands/_stdin_line.ts";
import { countError } from "../lib/count.ts";

Deno.test("parseStdinLine() reads EVENT and EVENT COUNT lines", async (t) => {
  const cases: [string, StdinLine | undefined][] = [
    ["req1", { event: "req1", count: 1 }],
    ["req1 3", { event: "req1", count: 3 }],
    ["req1\t3", { event: "req1", count: 3 }],
    ["req1 +3", { event: "req1", count: 3 }],
    ["req1   3", { event: "req1", count: 3 }],
    ["req1 \t 3", { event: "req1", count: 3 }],
    ["req1 3\r", { event: "req1", count: 3 }],
    ["req1\r", { event: "req1", count: 1 }],
    // The last field is the count only when it looks like a number.
    ["GET /index.html", { event: "GET /index.html", count: 1 }],
    ["a b c 2", { event: "a b c", count: 2 }],
    ["3", { event: "3", count: 1 }],
    ["v1.2 x", { event: "v1.2 x", count: 1 }],
    ["a:b 9007199254740991", { event: "a:b", count: Number.MAX_SAFE_INTEGER }],
    // Blank lines are skipped.
    ["", undefined],
    ["   ", undefined],
    ["\t\r", undefined],
  ];
  for (const [line, parsed] of cases) {
    await t.step(JSON.stringify(line), () => assert.deepEqual(parseStdinLine(line), parsed));
  }
});

Deno.test("parseStdinLine() rejects a count that is not a whole number from 1 to 2^53 - 1", async (t) => {
  const cases: [string, string][] = [
    ["req1 0", "0"],
    ["req1 -2", "-2"],
    ["req1 1.5", "1.5"],
    ["req1 1e3", "1e3"],
    ["req1 9007199254740992", "9007199254740992"],
  ];
  for (const [line, count] of cases) {
    await t.step(JSON.stringify(line), () => {
      assert.deepEqual(parseStdinLine(line), { error: countError(count) });
    });
  }
  await t.step("a count without an event", () => {
    assert.deepEqual(parseStdinLine(" 3"), { error: "Event ID must not be empty" });
  });
});

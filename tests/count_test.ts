/** Pure tests of the count rule (lib/count.ts) and of the count argument of `ecl log`. */
import assert from "node:assert/strict";
import { COUNT_RULE, countError, isCount, parseCount } from "../lib/count.ts";
import { parseCountArgument } from "../lib/commands/log.ts";

const MAX = Number.MAX_SAFE_INTEGER;

Deno.test("isCount() accepts whole numbers from 1 to 2^53 - 1", () => {
  for (const good of [1, 2, 1000, MAX]) assert.equal(isCount(good), true, String(good));
  for (const bad of [0, -1, 1.5, MAX + 1, NaN, Infinity, -Infinity]) {
    assert.equal(isCount(bad), false, String(bad));
  }
});

Deno.test("parseCount() reads digits with an optional +, nothing else", async (t) => {
  const cases: [string, number | undefined][] = [
    ["1", 1],
    ["+7", 7],
    ["007", 7],
    [String(MAX), MAX],
    [String(MAX + 1), undefined],
    ["0", undefined],
    ["-1", undefined],
    ["1.0", undefined],
    ["1e3", undefined],
    ["0x10", undefined],
    [" 1", undefined],
    ["1 ", undefined],
    ["", undefined],
    ["++1", undefined],
    ["١", undefined], // an Arabic-Indic digit is not an ASCII digit
  ];
  for (const [text, count] of cases) {
    await t.step(JSON.stringify(text), () => assert.equal(parseCount(text), count));
  }
});

Deno.test("countError() quotes the text and states the rule", () => {
  assert.equal(COUNT_RULE, `expected a whole number from 1 to ${MAX}`);
  assert.equal(countError("x"), `Cannot log count "x": expected a whole number from 1 to ${MAX}`);
  assert.equal(countError('"'), `Cannot log count "\\"": ${COUNT_RULE}`);
});

Deno.test("parseCountArgument() returns the count or throws a RangeError with the message", () => {
  assert.equal(parseCountArgument("3"), 3);
  assert.throws(() => parseCountArgument("0"), (error: unknown) => {
    assert.ok(error instanceof RangeError);
    assert.equal(error.message, countError("0"));
    return true;
  });
});

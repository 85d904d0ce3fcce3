/** Pure tests of interval strings and epoch-aligned period arithmetic. */
import assert from "node:assert/strict";
import { nextBoundary, parseInterval, periodStart } from "../lib/interval.ts";

const NOT_AN_INTERVAL =
  /^Cannot parse interval ".*": expected a positive number followed by s, m or h, e\.g\. "5m"$/;
const NOT_WHOLE = /^Cannot use interval ".*": it must be a whole number of seconds, at least 1$/;

/** A multiple of 1 s, 5 s, 1 min, 5 min and 1 h (1_795_000_000 is not a multiple of 1 h). */
const HOUR = 1_794_999_600;

Deno.test("parseInterval() converts seconds, minutes and hours", async (t) => {
  const cases: [string, number][] = [
    ["1s", 1],
    ["5s", 5],
    ["59s", 59],
    ["5m", 300],
    ["1h", 3600],
    ["24h", 86_400],
    ["10S", 10],
    ["5M", 300],
    ["2H", 7200],
    ["05m", 300],
    ["007s", 7],
    ["1.0s", 1],
  ];
  for (const [text, seconds] of cases) {
    await t.step(`${JSON.stringify(text)} is ${seconds} s`, () => {
      assert.equal(parseInterval(text), seconds);
    });
  }
});

Deno.test("parseInterval() accepts fractional minutes and hours", async (t) => {
  const cases: [string, number][] = [
    ["0.5m", 30],
    [".5m", 30],
    ["1.5m", 90],
    ["1.5h", 5400],
    ["0.1h", 360], // 0.1 * 3600 is 360.00000000000006 in floating point
    ["0.25h", 900],
    ["0.0025h", 9],
    ["2.5000m", 150],
  ];
  for (const [text, seconds] of cases) {
    await t.step(`${JSON.stringify(text)} is ${seconds} s`, () => {
      assert.equal(parseInterval(text), seconds);
    });
  }
});

Deno.test("parseInterval() rejects text that is not a number followed by s, m or h", async (t) => {
  const cases = [
    "",
    "5",
    "m",
    "5x",
    "5ms",
    "5 m",
    " 5m",
    "5m ",
    "5m\n",
    "+5m",
    "-5m",
    "-0.5m",
    "1e3s",
    "5.m",
    "1,5m",
    "five m",
    "Infinitys",
    "NaNm",
    "٥m", // an Arabic-Indic digit is not \d
  ];
  for (const text of cases) {
    await t.step(JSON.stringify(text), () => {
      assert.throws(() => parseInterval(text), (error: unknown) => {
        assert.ok(error instanceof SyntaxError);
        assert.match(error.message, NOT_AN_INTERVAL);
        assert.ok(error.message.includes(JSON.stringify(text)));
        return true;
      });
    });
  }
});

Deno.test("parseInterval() rejects zero and lengths that are not whole seconds", async (t) => {
  const cases = [
    "0s",
    "0m",
    "0h",
    "00s",
    "0.0m",
    ".0h",
    "1.5s",
    "0.5s",
    "0.9999999s", // must not be rounded to 1 s
    "1.0000001s", // must not be rounded to 1 s
    "0.001h",
    "0.01m",
    "1.2345m",
  ];
  for (const text of cases) {
    await t.step(JSON.stringify(text), () => {
      assert.throws(() => parseInterval(text), (error: unknown) => {
        assert.ok(error instanceof SyntaxError);
        assert.match(error.message, NOT_WHOLE);
        assert.ok(error.message.includes(JSON.stringify(text)));
        return true;
      });
    });
  }
});

Deno.test("parseInterval() rejects lengths past Number.MAX_SAFE_INTEGER seconds", async (t) => {
  await t.step("9007199254740991s is the longest", () => {
    assert.equal(parseInterval("9007199254740991s"), Number.MAX_SAFE_INTEGER);
  });
  for (const text of ["9007199254740992s", "9007199254740993s", "99999999999999999999h"]) {
    await t.step(JSON.stringify(text), () => {
      assert.throws(
        () => parseInterval(text),
        (error: unknown) => {
          assert.ok(error instanceof SyntaxError);
          assert.equal(
            error.message,
            `Cannot use interval ${
              JSON.stringify(text)
            }: it must be at most 9007199254740991 seconds`,
          );
          return true;
        },
      );
    });
  }
});

Deno.test("periodStart() returns the boundary at or before now", async (t) => {
  const cases: [string, number, number, number][] = [
    ["on a 5m boundary", HOUR + 300, 300, HOUR + 300],
    ["1 s after a 5m boundary", HOUR + 301, 300, HOUR + 300],
    ["1 s before a 5m boundary", HOUR + 299, 300, HOUR],
    ["a millisecond before a 5m boundary", HOUR + 299.999, 300, HOUR],
    ["a millisecond after a 5m boundary", HOUR + 300.001, 300, HOUR + 300],
    ["on a 1h boundary", HOUR, 3600, HOUR],
    ["1 s before a 1h boundary", HOUR - 1, 3600, HOUR - 3600],
    ["in the middle of an hour", HOUR + 1800, 3600, HOUR],
    ["1795000000 in 5s periods", 1_795_000_000, 5, 1_795_000_000],
    ["1795000000 in 1h periods", 1_795_000_000, 3600, 1_794_999_600],
    ["1795000000 in 7s periods", 1_795_000_000, 7, 1_794_999_997],
    ["1795000000.5 in 1s periods", 1_795_000_000.5, 1, 1_795_000_000],
    ["the epoch", 0, 300, 0],
    ["before the epoch", -1, 300, -300],
  ];
  for (const [name, now, length, start] of cases) {
    await t.step(name, () => {
      assert.equal(periodStart(now, length), start);
    });
  }
});

Deno.test("nextBoundary() returns the first boundary strictly after now", async (t) => {
  const cases: [string, number, number, number][] = [
    ["on a 5m boundary", HOUR + 300, 300, HOUR + 600],
    ["1 s after a 5m boundary", HOUR + 301, 300, HOUR + 600],
    ["1 s before a 5m boundary", HOUR + 299, 300, HOUR + 300],
    ["a millisecond before a 5m boundary", HOUR + 299.999, 300, HOUR + 300],
    ["on a 1h boundary", HOUR, 3600, HOUR + 3600],
    ["1 s before a 1h boundary", HOUR - 1, 3600, HOUR],
    ["1795000000 in 5s periods", 1_795_000_000, 5, 1_795_000_005],
    ["1795000000 in 1h periods", 1_795_000_000, 3600, 1_795_003_200],
    ["1795000000.5 in 1s periods", 1_795_000_000.5, 1, 1_795_000_001],
    ["the epoch", 0, 60, 60],
  ];
  for (const [name, now, length, next] of cases) {
    await t.step(name, () => {
      assert.equal(nextBoundary(now, length), next);
    });
  }
});

Deno.test("nextBoundary() is one length after periodStart()", () => {
  for (const length of [1, 5, 60, 300, 3600, 86_400]) {
    for (const now of [1_795_000_000, 1_795_000_000.25, 1_795_000_299, 1_795_003_600]) {
      const start = periodStart(now, length);
      assert.equal(nextBoundary(now, length), start + length);
      assert.ok(start <= now && now < start + length, `${now} in [${start}, +${length})`);
      assert.equal(start % length, 0);
    }
  }
});

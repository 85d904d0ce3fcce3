/**
 * Pure tests of what the dashboard shows (lib/dashboard/client/view.ts), and a check that the
 * generated assets module (lib/dashboard/_assets.ts) is what scripts/dashboard_assets.ts builds
 * from the client code and uPlot now.
 */
import assert from "node:assert/strict";
import type { CountsDocument, CountsInterval } from "../lib/dashboard/api.ts";
import {
  alerts,
  chartData,
  count,
  duration,
  OTHERS_LABEL,
  progress,
  refreshMs,
} from "../lib/dashboard/client/view.ts";
import { denoCommand, finish } from "./_process.ts";

Deno.test("view: refresh at most every second, at least every 10 s, a tenth of the shortest interval", () => {
  assert.deepEqual([1, 5, 10, 60, 300, 3600].map(refreshMs), [
    1000,
    1000,
    1000,
    6000,
    10000,
    10000,
  ]);
});

Deno.test("view: durations, progress and counts", () => {
  assert.deepEqual([0, 45, 300, 5400, 90061].map(duration), ["0s", "45s", "5m", "1h 30m", "1d 1h"]);
  assert.deepEqual(progress(100, 60, 115), { elapsed: 15, fraction: 0.25 });
  assert.deepEqual(progress(100, 60, 90), { elapsed: 0, fraction: 0 });
  assert.deepEqual(progress(100, 60, 500), { elapsed: 60, fraction: 1 });
  assert.deepEqual([0, 999, 1000, 1234567].map(count), ["0", "999", "1,000", "1,234,567"]);
});

const period = (start: number, total: number, events: [string, number][]) => ({
  start,
  end: start + 10,
  total,
  distinct: events.length,
  events: events.map(([event, count]) => ({ event, count })),
});

Deno.test("chart: top events by their sum, the rest summed into others, gaps as null", () => {
  const data = chartData(
    [
      period(100, 15, [["a", 10], ["b", 3], ["c", 2]]),
      period(110, 4, [["b", 4]]),
      period(130, 9, [["c", 5], ["a", 1]]), // 120 missing; 3 counts beyond the kept events
    ],
    10,
    2,
  );
  assert.deepEqual(data, {
    starts: [100, 110, 120, 130],
    labels: ["a", "b", OTHERS_LABEL],
    values: [[10, 0, null, 1], [3, 4, null, 0], [2, 0, null, 8]],
  });
  assert.deepEqual(chartData([period(100, 3, [["a", 3]])], 10), {
    starts: [100],
    labels: ["a"],
    values: [[3]],
  });
  assert.deepEqual(chartData([], 10), { starts: [], labels: [], values: [] });
});

function interval(stale: boolean): CountsInterval {
  const slot = { start: 0, end: 60, total: 0, distinct: 0, matched: 0, events: [], invalid: [] };
  return { group: "g", interval: "1m", seconds: 60, stale, last: slot, current: slot };
}

const doc = (over: Partial<CountsDocument>): CountsDocument => ({
  now: 100,
  redisUp: true,
  leaseHolder: "host:1:ab",
  intervals: [interval(false)],
  ...over,
});

Deno.test("alerts: serve down, Redis down, no master rotating, no lease", () => {
  assert.deepEqual(alerts(doc({})), []);
  assert.match(
    alerts(undefined, "Failed to fetch")[0].text,
    /^ecl serve does not answer \(Failed to fetch\)/,
  );
  assert.deepEqual(alerts(doc({ redisUp: false, intervals: [] })).map((a) => a.level), ["bad"]);
  assert.match(alerts(doc({ redisUp: false }))[0].text, /^Redis is down/);
  const stale = alerts(doc({ intervals: [interval(true)], leaseHolder: null }));
  assert.equal(stale.length, 1);
  assert.equal(stale[0].level, "bad");
  assert.match(
    stale[0].text,
    /^No master rotates the counters: not rotated: g 1m since \d\d:\d\d:\d\d/,
  );
  assert.deepEqual(alerts(doc({ leaseHolder: null })).map((a) => a.level), ["warn"]);
});

Deno.test("the generated dashboard assets are up to date (scripts/dashboard_assets.ts --check)", async () => {
  const result = await finish(denoCommand(["run", "-A", "scripts/dashboard_assets.ts", "--check"]));
  assert.equal(result.code, 0, result.stderr + result.stdout);
});

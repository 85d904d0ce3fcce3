/** Pure tests of the pending-count accumulator, with explicit `nowSeconds` values. */
import assert from "node:assert/strict";
import { Accumulator, type Batch, splitBatch } from "../lib/accumulator.ts";

/** A multiple of 5 s, 1 min, 5 min and 1 h. */
const T = 1_794_999_600;
const FIVE_MIN = 300;
const HOUR = 3600;

/** Plain, order-independent view of batches: sorted by interval index, then period. */
function plain(batches: readonly Batch[]): [number, number, Record<string, number>][] {
  return batches
    .map((batch): [number, number, Record<string, number>] => [
      batch.intervalIndex,
      batch.period,
      Object.fromEntries([...batch.counts].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)),
    ])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

Deno.test("Accumulator starts empty", () => {
  const accumulator = new Accumulator([FIVE_MIN, HOUR], T + 10);
  assert.equal(accumulator.isEmpty, true);
  assert.equal(accumulator.size, 0);
  assert.equal(accumulator.pendingCount("a", 0, T + 10), 0);
  assert.deepEqual(accumulator.take(T + 20), []);
  assert.equal(accumulator.isEmpty, true);
});

Deno.test("Accumulator.add() returns the event's count in the open window", () => {
  const accumulator = new Accumulator([FIVE_MIN, HOUR], T);
  assert.equal(accumulator.add("a", 1), 1);
  assert.equal(accumulator.add("a", 2), 3);
  assert.equal(accumulator.add("b", 5), 5);
  assert.equal(accumulator.add("a", 10), 13);
  accumulator.seal(T + 1);
  assert.equal(accumulator.add("a", 1), 1, "a sealed window starts a new count");
});

Deno.test("Accumulator.size counts (interval, period, event) counters; isEmpty follows", () => {
  const accumulator = new Accumulator([FIVE_MIN, HOUR], T);
  accumulator.add("a", 1);
  accumulator.add("a", 1);
  assert.equal(accumulator.size, 2, "one event in two intervals");
  accumulator.add("b", 1);
  assert.equal(accumulator.size, 4);
  assert.equal(accumulator.isEmpty, false);
  accumulator.seal(T + FIVE_MIN);
  assert.equal(accumulator.size, 4, "sealed: 2 events in the batches of 2 intervals");
  accumulator.add("a", 1);
  // New: (5m, T+5m, a). Not new: (1h, T, a) is already in the sealed batch of that hour.
  assert.equal(accumulator.size, 5);
  accumulator.add("c", 1);
  assert.equal(accumulator.size, 7, "c is new in both intervals");
  accumulator.take(T + FIVE_MIN + 1);
  assert.equal(accumulator.size, 0);
  assert.equal(accumulator.isEmpty, true);
});

Deno.test("Accumulator.take() hands out one batch per interval and empties", () => {
  const accumulator = new Accumulator([FIVE_MIN, HOUR], T + 10);
  accumulator.add("a", 1);
  accumulator.add("a", 2);
  accumulator.add("b", 5);
  const batches = accumulator.take(T + 20);
  assert.deepEqual(batches, [
    { intervalIndex: 0, period: T, counts: new Map([["a", 3], ["b", 5]]) },
    { intervalIndex: 1, period: T, counts: new Map([["a", 3], ["b", 5]]) },
  ]);
  assert.equal(accumulator.isEmpty, true);
  assert.equal(accumulator.size, 0);
  assert.equal(accumulator.pendingCount("a", 0, T + 20), 0);
  assert.deepEqual(accumulator.take(T + 30), []);
});

Deno.test("Accumulator.take() batches are not changed by later counts", () => {
  const accumulator = new Accumulator([FIVE_MIN], T);
  accumulator.add("a", 1);
  const [batch] = accumulator.take(T + 1);
  accumulator.add("a", 5);
  accumulator.add("b", 5);
  accumulator.seal(T + 2);
  assert.deepEqual(batch.counts, new Map([["a", 1]]));
  assert.deepEqual(plain(accumulator.take(T + 3)), [[0, T, { a: 5, b: 5 }]]);
});

Deno.test("Accumulator stamps counts with the periods in which the window was opened", () => {
  // Opened at 4:50 into the period; no seal at the boundary; taken 10 s after it.
  const accumulator = new Accumulator([FIVE_MIN, HOUR], T + 290);
  accumulator.add("a", 1);
  assert.deepEqual(plain(accumulator.take(T + 310)), [
    [0, T, { a: 1 }],
    [1, T, { a: 1 }],
  ]);
});

Deno.test("Accumulator.seal() at a boundary splits counts between periods", () => {
  const accumulator = new Accumulator([FIVE_MIN, HOUR], T + 290);
  accumulator.add("a", 1);
  accumulator.add("b", 4);
  accumulator.seal(T + FIVE_MIN); // exactly on the boundary
  accumulator.add("a", 2);
  assert.deepEqual(plain(accumulator.take(T + FIVE_MIN + 1)), [
    [0, T, { a: 1, b: 4 }],
    [0, T + FIVE_MIN, { a: 2 }],
    [1, T, { a: 3, b: 4 }], // both windows are in the same hour
  ]);
});

Deno.test("Accumulator.seal() just before a boundary keeps the old period", () => {
  const accumulator = new Accumulator([FIVE_MIN], T + 100);
  accumulator.add("a", 1);
  accumulator.seal(T + 299.999);
  accumulator.add("a", 2);
  assert.deepEqual(plain(accumulator.take(T + 299.9995)), [[0, T, { a: 3 }]]);
});

Deno.test("Accumulator.seal() with nothing open still moves the window", () => {
  const accumulator = new Accumulator([FIVE_MIN, HOUR], T);
  accumulator.seal(T + HOUR + FIVE_MIN);
  assert.equal(accumulator.isEmpty, true);
  accumulator.add("a", 7);
  assert.deepEqual(plain(accumulator.take(T + HOUR + FIVE_MIN + 1)), [
    [0, T + HOUR + FIVE_MIN, { a: 7 }],
    [1, T + HOUR, { a: 7 }],
  ]);
});

Deno.test("Accumulator keeps separate periods for intervals of different lengths", () => {
  const accumulator = new Accumulator([5, 60], T + 1);
  accumulator.add("a", 1);
  accumulator.seal(T + 5);
  accumulator.add("a", 2);
  accumulator.add("b", 1);
  accumulator.seal(T + 10);
  accumulator.add("a", 4);
  accumulator.seal(T + 60);
  accumulator.add("a", 8);
  assert.deepEqual(plain(accumulator.take(T + 61)), [
    [0, T, { a: 1 }],
    [0, T + 5, { a: 2, b: 1 }],
    [0, T + 10, { a: 4 }],
    [0, T + 60, { a: 8 }],
    [1, T, { a: 7, b: 1 }],
    [1, T + 60, { a: 8 }],
  ]);
});

Deno.test("Accumulator.pendingCount() sums the open window and sealed batches of one period", async (t) => {
  const accumulator = new Accumulator([FIVE_MIN, HOUR], T + 290);
  accumulator.add("a", 1);
  await t.step("open window, same periods", () => {
    assert.equal(accumulator.pendingCount("a", 0, T + 290), 1);
    assert.equal(accumulator.pendingCount("a", 1, T + 290), 1);
    assert.equal(accumulator.pendingCount("b", 0, T + 290), 0);
  });
  await t.step("open window, asked about the next 5m period", () => {
    assert.equal(accumulator.pendingCount("a", 0, T + FIVE_MIN), 0);
    assert.equal(accumulator.pendingCount("a", 1, T + FIVE_MIN), 1);
  });
  accumulator.seal(T + FIVE_MIN);
  accumulator.add("a", 2);
  await t.step("after a seal at the 5m boundary", () => {
    assert.equal(accumulator.pendingCount("a", 0, T + FIVE_MIN), 2);
    assert.equal(accumulator.pendingCount("a", 0, T + FIVE_MIN - 1), 1);
    assert.equal(accumulator.pendingCount("a", 1, T + FIVE_MIN), 3);
    assert.equal(accumulator.pendingCount("a", 1, T + HOUR), 0);
  });
  await t.step("after take()", () => {
    accumulator.take(T + FIVE_MIN + 1);
    assert.equal(accumulator.pendingCount("a", 0, T + FIVE_MIN), 0);
    assert.equal(accumulator.pendingCount("a", 1, T + FIVE_MIN), 0);
  });
});

Deno.test("Accumulator.restore() merges batches with what is pending", () => {
  const accumulator = new Accumulator([FIVE_MIN, HOUR], T);
  accumulator.add("a", 1);
  accumulator.add("b", 2);
  const failed = accumulator.take(T + 1);
  accumulator.add("a", 10);
  accumulator.add("c", 3);
  accumulator.seal(T + 2);
  accumulator.add("a", 100); // the open window shares its periods with the restored batches
  accumulator.restore(failed);
  assert.equal(accumulator.pendingCount("a", 0, T + 2), 111);
  assert.equal(accumulator.pendingCount("b", 1, T + 2), 2);
  assert.equal(accumulator.size, 6, "a, b, c in two intervals, each counted once");
  assert.deepEqual(plain(accumulator.take(T + 3)), [
    [0, T, { a: 111, b: 2, c: 3 }],
    [1, T, { a: 111, b: 2, c: 3 }],
  ]);
  assert.equal(accumulator.isEmpty, true);
});

Deno.test("Accumulator.restore() keeps batches of past periods apart", () => {
  const accumulator = new Accumulator([FIVE_MIN, HOUR], T);
  accumulator.add("a", 1);
  const failed = accumulator.take(T + FIVE_MIN); // the window of T, sealed at the boundary
  accumulator.add("a", 2); // the window of T + 5m
  accumulator.restore(failed);
  assert.equal(accumulator.pendingCount("a", 0, T), 1);
  assert.equal(accumulator.pendingCount("a", 0, T + FIVE_MIN), 2);
  assert.equal(accumulator.pendingCount("a", 1, T + FIVE_MIN), 3);
  assert.deepEqual(plain(accumulator.take(T + FIVE_MIN + 1)), [
    [0, T, { a: 1 }],
    [0, T + FIVE_MIN, { a: 2 }],
    [1, T, { a: 3 }],
  ]);
});

Deno.test("Accumulator.restore() into an empty accumulator, and of nothing", () => {
  const accumulator = new Accumulator([FIVE_MIN], T);
  accumulator.restore([]);
  assert.equal(accumulator.isEmpty, true);
  const batch: Batch = { intervalIndex: 0, period: T - FIVE_MIN, counts: new Map([["x", 4]]) };
  accumulator.restore([batch]);
  assert.equal(accumulator.isEmpty, false);
  assert.equal(accumulator.size, 1);
  assert.equal(accumulator.pendingCount("x", 0, T - 1), 4);
  batch.counts.set("x", 999); // the accumulator keeps its own copy
  assert.deepEqual(plain(accumulator.take(T)), [[0, T - FIVE_MIN, { x: 4 }]]);
});

Deno.test("splitBatch() cuts a batch into parts of at most maxEvents, keeping every count", () => {
  const counts = new Map(Array.from({ length: 2500 }, (_, i) => [`e${i}`, i + 1]));
  const parts = splitBatch({ intervalIndex: 1, period: 600, counts }, 1000);
  assert.deepEqual(parts.map((part) => part.counts.size), [1000, 1000, 500]);
  for (const part of parts) {
    assert.equal(part.intervalIndex, 1);
    assert.equal(part.period, 600);
  }
  const merged = new Map(parts.flatMap((part) => [...part.counts]));
  assert.deepEqual(merged, counts);
  const small = { intervalIndex: 0, period: 0, counts: new Map([["a", 1]]) };
  assert.deepEqual(splitBatch(small, 1000), [small]);
});

/** `runAt` and `backoffMs` (lib/_timer.ts), with a clock the test controls. */
import assert from "node:assert/strict";
import { backoffMs, runAt } from "../lib/_timer.ts";
import { waitFor } from "./_wait.ts";

Deno.test("backoffMs() doubles from minMs per failure and stops at maxMs", () => {
  assert.deepEqual(
    [0, 1, 2, 5, 6, 7, 100].map((failures) => backoffMs(failures, 100, 5000)),
    [100, 200, 400, 3200, 5000, 5000, 5000],
  );
  assert.equal(backoffMs(0, 250, 100), 100);
});

Deno.test("runAt() calls back asynchronously even when the time has come already", async () => {
  let called = 0;
  runAt(1000, () => called++, () => 5000);
  assert.equal(called, 0);
  await waitFor("the callback", () => Promise.resolve(called === 1), { timeoutMs: 5000 });
});

Deno.test("runAt() waits for its clock, not for the time it first computed", async () => {
  let clock = 0;
  let reads = 0;
  let called = 0;
  const timer = runAt(30, () => called++, () => {
    reads++;
    return clock;
  });
  // The first wait (30 ms) ends while the clock still says 0: it reads the clock again and re-arms.
  await waitFor("two re-arms", () => Promise.resolve(reads >= 3), { timeoutMs: 5000 });
  assert.equal(called, 0);
  clock = 30;
  await waitFor("the callback", () => Promise.resolve(called === 1), { timeoutMs: 5000 });
  timer.cancel();
});

Deno.test("runAt(): a cancelled timer never calls back", async () => {
  const calls: string[] = [];
  const now = () => 0;
  const cancelled = runAt(0, () => calls.push("cancelled"), now);
  cancelled.cancel();
  cancelled.cancel();
  // Due at the same instant and armed later: it fires after the cancelled one would have.
  runAt(0, () => calls.push("later"), now);
  await waitFor("the later timer", () => Promise.resolve(calls.length > 0), { timeoutMs: 5000 });
  assert.deepEqual(calls, ["later"]);
});

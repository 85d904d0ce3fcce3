/** `SingleFlight` (lib/_single_flight.ts): work shared per key, capped keys, the timeout. */
import assert from "node:assert/strict";
import { SingleFlight } from "../lib/_single_flight.ts";

/** A promise and its resolver. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => resolve = r);
  return { promise, resolve };
}

Deno.test("SingleFlight: requests of a key under way share its run; a later one starts anew", async () => {
  const flights = new SingleFlight(60_000, 1);
  let runs = 0;
  const gate = deferred<string>();
  const work = () => {
    runs++;
    return gate.promise;
  };
  const shared = [1, 2, 3].map(() => flights.run("/metrics", work, "timed out"));
  assert.equal(runs, 1);
  gate.resolve("text");
  assert.deepEqual(await Promise.all(shared), ["text", "text", "text"]);
  assert.equal(flights.running, 0);
  assert.equal(await flights.run("/metrics", () => Promise.resolve("new"), "timed out"), "new");
});

Deno.test("SingleFlight: capped keys beyond the cap are turned away, shared ones and others not", async () => {
  const flights = new SingleFlight(60_000, 2);
  const gate = deferred<number>();
  const a = flights.runCapped("a", () => gate.promise, -1);
  const b = flights.runCapped("b", () => gate.promise, -1);
  assert.equal(flights.runCapped("c", () => Promise.resolve(3), -1), undefined);
  const againA = flights.runCapped("a", () => Promise.resolve(99), -1);
  assert.notEqual(againA, undefined);
  const fixed = flights.run("/metrics", () => Promise.resolve(7), -1);
  assert.equal(await fixed, 7);
  gate.resolve(1);
  assert.deepEqual(await Promise.all([a, b, againA]), [1, 1, 1]);
  assert.equal(await flights.runCapped("c", () => Promise.resolve(3), -1), 3);
});

Deno.test("SingleFlight: a request waits at most the timeout; the run goes on and is shared", async () => {
  const flights = new SingleFlight(50, 1);
  const gate = deferred<string>();
  assert.equal(await flights.run("k", () => gate.promise, "fallback"), "fallback");
  assert.equal(flights.running, 1);
  const late = flights.run("k", () => Promise.resolve("second run"), "fallback");
  gate.resolve("first run");
  assert.equal(await late, "first run");
  assert.equal(flights.running, 0);
});

Deno.test("SingleFlight: work that throws at once rejects, and frees its key", async () => {
  const flights = new SingleFlight(60_000, 1);
  await assert.rejects(
    flights.runCapped("q", () => {
      throw new Error("boom");
    }, 0)!,
    /boom/,
  );
  assert.equal(flights.running, 0);
  assert.equal(await flights.runCapped("other", () => Promise.resolve(1), 0), 1);
});

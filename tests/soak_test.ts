/**
 * The chaos soak (soak/soak.ts), short: a minute of seeded faults against real redis-server,
 * logger and master processes; nothing lost, nothing doubled, every boundary rotated once. The
 * long run is `deno task soak` (README, "Chaos soak").
 */
import assert from "node:assert/strict";
import { auditRotations, FAULT_KINDS, formatSoak, random, runSoak } from "../soak/soak.ts";

Deno.test("auditRotations() finds boundaries rotated twice, merged in an outage and missed", () => {
  // Rotations at 3, 6, 9 (seen as 3/6 and 6/9); 12 and 15 merged into the rotation at 18; 21
  // rotated twice (18/21 and 21/21 would be a second rotation of 21 over itself).
  const values = ["3/6", "6/9", "9/18", "18/21", "21/21", "21/24", "24/30"];
  const outage: [number, number] = [11_000, 13_000];
  assert.deepEqual(auditRotations("g:3s", values, [outage]), {
    name: "g:3s",
    rotated: 7,
    doubled: 1,
    mergedInOutage: 2, // 12 and 15 (within the outage and the clients' retry time)
    missed: 1, // 27
  });
  assert.deepEqual(auditRotations("g:3s", ["3/6", "0/6"], []).doubled, 1);
});

Deno.test("random() is a seeded, reproducible sequence", () => {
  const a = random(7);
  const b = random(7);
  const first = [a(), a(), a()];
  assert.deepEqual(first, [b(), b(), b()]);
  assert.ok(first.every((x) => x >= 0 && x < 1));
  assert.notDeepEqual(first, [random(8)(), 0, 0].slice(0, 3));
});

Deno.test({
  name:
    "soak: a minute of seeded faults; every logged count is in Redis once, every boundary rotated once",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const result = await runSoak({ durationMs: 50_000, seed: 12 });
    const table = formatSoak(result);
    // Every kind of fault was injected (each round of the schedule tries every kind once).
    for (const kind of FAULT_KINDS) assert.ok(result.faults[kind] >= 1, `${kind}\n${table}`);
    assert.deepEqual(result.notes, [], table);
    for (const mode of ["direct", "cached"] as const) {
      const totals = result.clean[mode];
      assert.ok(totals.logged > 0, table);
      assert.equal(totals.lost, 0, table);
      assert.equal(totals.doubled, 0, table);
      assert.equal(totals.found, totals.logged, table);
    }
    for (const rotation of result.rotations) {
      assert.ok(rotation.rotated >= 15, table);
      assert.equal(rotation.doubled, 0, table);
      assert.equal(rotation.missed, 0, table);
    }
  },
});

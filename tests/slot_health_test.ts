/** Pure tests of judging a slot read and of the words for it (lib/slot_health.ts). */
import assert from "node:assert/strict";
import type { Slot } from "../lib/keys.ts";
import type { SlotCounts } from "../lib/reader.ts";
import {
  currentStartOf,
  NO_MASTER_HINT,
  notACountWarning,
  slotHealth,
  spanText,
  STALE_GRACE_SECONDS,
  staleText,
} from "../lib/slot_health.ts";

/** 2023-11-14T22:15:00Z, a 5-minute boundary. */
const T = 1_700_000_100;
const M5 = 300;

function slot(kind: Slot, start: number | undefined, end: number | undefined): SlotCounts {
  return {
    group: "g",
    interval: "5m",
    slot: kind,
    start,
    end,
    counts: new Map(),
    invalid: new Map(),
  };
}

Deno.test("slotHealth() of last: complete when it spans one interval", () => {
  assert.deepEqual(slotHealth(slot("last", T - M5, T), M5, T + 1), {
    complete: true,
    stale: false,
    spanIntervals: 1,
  });
  assert.deepEqual(slotHealth(slot("last", T - 3 * M5, T), M5, T + 1), {
    complete: false,
    stale: false,
    spanIntervals: 3,
  });
});

Deno.test("slotHealth() of last: unknown completeness without a start or an end", () => {
  for (const [start, end] of [[undefined, T], [T - M5, undefined], [undefined, undefined]]) {
    assert.deepEqual(slotHealth(slot("last", start, end), M5, T), {
      complete: undefined,
      stale: false,
      spanIntervals: undefined,
    });
  }
});

Deno.test("slotHealth() is stale only past the period's end plus the grace", async (t) => {
  const end = T + M5 + STALE_GRACE_SECONDS;
  for (const kind of ["last", "cur"] as const) {
    // For last the current period starts at `end`; for cur at `start`.
    const read = kind === "last" ? slot(kind, T - M5, T) : slot(kind, T, T + M5);
    await t.step(kind, () => {
      assert.equal(currentStartOf(read), T);
      assert.equal(slotHealth(read, M5, end).stale, false);
      assert.equal(slotHealth(read, M5, end + 0.001).stale, true);
    });
  }
  await t.step("never rotated is not stale", () => {
    assert.equal(slotHealth(slot("last", undefined, undefined), M5, T + 10 * M5).stale, false);
  });
});

Deno.test("slotHealth() of cur: completeness is always unknown", () => {
  assert.deepEqual(slotHealth(slot("cur", T, T + M5), M5, T + 1), {
    complete: undefined,
    stale: false,
    spanIntervals: undefined,
  });
});

Deno.test("spanText() and staleText() name the times in ISO 8601", () => {
  const last = slot("last", T - 3 * M5, T);
  assert.equal(
    spanText(last, slotHealth(last, M5, T)),
    '"last" spans 3 intervals (2023-11-14T22:00:00Z to 2023-11-14T22:15:00Z): the master missed boundaries',
  );
  assert.equal(staleText(last), "not rotated since 2023-11-14T22:15:00Z");
  assert.equal(staleText(slot("cur", T, T + M5)), "not rotated since 2023-11-14T22:15:00Z");
  assert.equal(NO_MASTER_HINT, "is an ecl master running for this Redis?");
});

Deno.test("notACountWarning() names the counter and shows at most 40 characters of the value", () => {
  const last = slot("last", undefined, undefined);
  assert.equal(
    notACountWarning("Skipping", last, "a", "hello"),
    'Skipping event "a" of g:5m:last: its value "hello" is not a count',
  );
  assert.equal(
    notACountWarning("Printing U for", last, 'x"y', "v".repeat(100)),
    `Printing U for event "x\\"y" of g:5m:last: its value "${"v".repeat(37)}..." is not a count`,
  );
});

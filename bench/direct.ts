/**
 * Workload 2: direct mode, 1 M `log()` over 4 events and 2 intervals, yielding to the event loop
 * (a `setImmediate` turn) every 100 calls, as a service between requests; timed until Redis
 * confirmed every count (`await group.flush()`). The totals in Redis are checked.
 *
 * Run alone: `deno run -A bench/direct.ts [--runs N] [--quick]`.
 * @module
 */
import { EventCountLogger, type EventGroup } from "../mod.ts";
import {
  assertExact,
  type BenchContext,
  benchMain,
  checkCounts,
  curTotals,
  nextTurn,
  type Workload,
} from "./_util.ts";

/** Calls between two event-loop turns. */
export const YIELD_EVERY = 100;
/** Events of the direct-mode workloads. */
export const EVENTS = ["req1", "req2", "req3", "error"];
/** Intervals of the direct-mode workloads. */
export const INTERVALS = ["1m", "1h"];
/** `log()` calls per process. */
export const CALLS = 1_000_000;

/**
 * Log `calls` events, `eventAt(i)` for the i-th, with a turn of the event loop every
 * {@link YIELD_EVERY} calls; then wait until Redis confirmed them. Returns the calls accepted.
 */
export async function logAndFlush(
  group: EventGroup,
  calls: number,
  eventAt: (index: number) => string,
): Promise<number> {
  let accepted = 0;
  for (let i = 0; i < calls; i++) {
    if (group.log(eventAt(i))) accepted++;
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await nextTurn();
  }
  await group.flush();
  return accepted;
}

/** Expected count of `EVENTS[index]` after `calls` calls cycling through the events. */
export function expectedCount(calls: number, index: number): number {
  return Math.floor(calls / EVENTS.length) + (index < calls % EVENTS.length ? 1 : 0);
}

async function run(context: BenchContext, scale = 1) {
  const group = "direct";
  const calls = Math.round(context.size(CALLS) * scale);
  const warnings: string[] = [];
  const ecl = new EventCountLogger(
    { [group]: { events: EVENTS, intervals: INTERVALS } },
    context.redis.spec,
    { onWarning: (message) => warnings.push(message) },
  );
  await ecl.ready();
  const started = performance.now();
  const accepted = await logAndFlush(ecl.getGroup(group)!, calls, (i) => EVENTS[i & 3]);
  const seconds = (performance.now() - started) / 1000;
  await ecl.close();
  const errors = accepted === calls ? [] : [`log() accepted ${accepted} of ${calls} calls`];
  const totals = new Map(EVENTS.map((event, index) => [event, expectedCount(calls, index)]));
  errors.push(...await checkCounts(context.raw, curTotals(group, INTERVALS, totals)));
  return { value: calls / seconds, errors, notes: warnings };
}

/** The workload. */
export const workloads: Workload[] = [{
  name: "direct",
  title: "2 direct mode: 1 M log(), 4 events × 2 intervals, yield / 100, until flushed",
  unit: "rate",
  // One untimed run at a tenth of the size: the measured runs see log() in its steady state
  // (after a flush, as in a long-running process), not code specialised to a fresh logger.
  warmUp: async (context) => assertExact(await run(context, 0.1)),
  target: { value: 1e6, better: "higher" },
  reference: "Python 6,600/s",
  run: (context) => run(context),
}];

if (import.meta.main) await benchMain(workloads);

/**
 * Workload 1: cached mode, one process, 4 events, 2 intervals. `log()` in a tight loop (no await):
 * the measured rate is that of `log()` alone; then `close()` writes everything and the totals in
 * Redis are checked.
 *
 * Run alone: `deno run -A bench/cached.ts [--runs N] [--quick]`.
 * @module
 */
import { EventCountLogger } from "../mod.ts";
import {
  assertExact,
  type BenchContext,
  benchMain,
  checkCounts,
  curTotals,
  type Workload,
} from "./_util.ts";

const GROUP = "cached";
const EVENTS = ["req1", "req2", "req3", "error"];
const INTERVALS = ["1m", "1h"];
const CALLS = 20_000_000;

async function run(context: BenchContext, scale = 1) {
  const calls = Math.round(context.size(CALLS) * scale);
  const warnings: string[] = [];
  const ecl = new EventCountLogger(
    { [GROUP]: { events: EVENTS, intervals: INTERVALS, sync_interval: 2 } },
    context.redis.spec,
    { onWarning: (message) => warnings.push(message) },
  );
  await ecl.ready();
  const group = ecl.getGroup(GROUP)!;
  const events = EVENTS;
  let accepted = 0;
  const started = performance.now();
  for (let i = 0; i < calls; i++) {
    if (group.log(events[i & 3])) accepted++;
  }
  const seconds = (performance.now() - started) / 1000;
  await ecl.close();
  const errors = accepted === calls ? [] : [`log() accepted ${accepted} of ${calls} calls`];
  const totals = new Map(EVENTS.map((event, index) => [
    event,
    Math.floor(calls / 4) + (index < calls % 4 ? 1 : 0),
  ]));
  errors.push(...await checkCounts(context.raw, curTotals(GROUP, INTERVALS, totals)));
  return { value: calls / seconds, errors, notes: warnings };
}

/** The workload. */
export const workloads: Workload[] = [{
  name: "cached",
  title: "1 cached mode: log() in a tight loop, 4 events × 2 intervals",
  unit: "rate",
  // One untimed run at a tenth of the size: the measured runs see log() in its steady state
  // (after a flush, as in a long-running process), not code specialised to a fresh logger.
  warmUp: async (context) => assertExact(await run(context, 0.1)),
  target: { value: 30e6, better: "higher" },
  reference: "Python 1.05 M/s",
  run: (context) => run(context),
}];

if (import.meta.main) await benchMain(workloads);

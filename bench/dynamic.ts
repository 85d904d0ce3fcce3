/**
 * Workload 3: direct mode, 200,000 distinct auto-declared events (one `log()` each), 2 intervals,
 * a turn of the event loop every 100 calls, timed until Redis confirmed them. Every one of the
 * 400,000 counters is checked.
 *
 * Run alone: `deno run -A bench/dynamic.ts [--runs N] [--quick]`.
 * @module
 */
import { EventCountLogger } from "../mod.ts";
import { assertExact, type BenchContext, benchMain, checkCounts, type Workload } from "./_util.ts";
import { INTERVALS, logAndFlush } from "./direct.ts";

const GROUP = "clients";
const EVENTS = 200_000;

/** The ID of the i-th distinct event. */
function eventId(index: number): string {
  return `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
}

async function run(context: BenchContext, scale = 1) {
  const events = Math.round(context.size(EVENTS) * scale);
  const warnings: string[] = [];
  const ecl = new EventCountLogger(
    { [GROUP]: { auto_declare_events: true, intervals: INTERVALS } },
    context.redis.spec,
    { onWarning: (message) => warnings.push(message) },
  );
  await ecl.ready();
  const started = performance.now();
  const accepted = await logAndFlush(ecl.getGroup(GROUP)!, events, eventId);
  const seconds = (performance.now() - started) / 1000;
  await ecl.close();
  const errors = accepted === events ? [] : [`log() accepted ${accepted} of ${events} calls`];
  const expected = new Map<string, number>();
  for (const interval of INTERVALS) {
    for (let i = 0; i < events; i++) expected.set(`${GROUP}:${interval}:cur:${eventId(i)}`, 1);
  }
  errors.push(...await checkCounts(context.raw, expected));
  const keys = await context.raw.dbSize();
  // Only the counters: close() released the writer keys (`cur:@w:<id>`).
  if (keys !== expected.size) errors.push(`Redis holds ${keys} keys, expected ${expected.size}`);
  return { value: events / seconds, errors, notes: warnings };
}

/** The workload. */
export const workloads: Workload[] = [{
  name: "dynamic",
  title: "3 direct mode: 200,000 distinct auto-declared events × 2 intervals",
  unit: "rate",
  // One untimed run at a tenth of the size: the measured runs see log() in its steady state
  // (after a flush, as in a long-running process), not code specialised to a fresh logger.
  warmUp: async (context) => assertExact(await run(context, 0.1)),
  target: { value: 250e3, better: "higher" },
  reference: "—",
  run: (context) => run(context),
}];

if (import.meta.main) await benchMain(workloads);

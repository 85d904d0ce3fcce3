/**
 * Workload 9: distinct auto-declared events spread over 8 groups × 2 intervals (16 hash slots),
 * direct mode, once against the bench's single Redis and once against a 3-master Redis Cluster on
 * the same machine; events/s until Redis confirmed them, and every counter checked.
 *
 * Run alone: `deno run -A bench/cluster.ts [--runs N] [--quick]`.
 * @module
 */
import { EventCountLogger } from "../mod.ts";
import { startCluster } from "../tests/_cluster.ts";
import type { RedisSpec } from "../lib/redis_config.ts";
import { type BenchContext, benchMain, type Workload } from "./_util.ts";
import { INTERVALS, logAndFlush } from "./direct.ts";

const GROUPS = 8;
const EVENTS_PER_GROUP = 25_000;

/** Log into every group, flush, and check the totals through the library. */
async function measure(spec: RedisSpec, events: number) {
  const names = Array.from({ length: GROUPS }, (_, i) => `c${i}`);
  const ecl = new EventCountLogger(
    Object.fromEntries(
      names.map((name) => [name, { auto_declare_events: true, intervals: INTERVALS }]),
    ),
    spec,
  );
  await ecl.ready();
  const started = performance.now();
  const logged = await Promise.all(
    names.map((name) => logAndFlush(ecl.getGroup(name)!, events, (i) => `e${i}`)),
  );
  const seconds = (performance.now() - started) / 1000;
  const errors: string[] = [];
  for (const [index, name] of names.entries()) {
    if (logged[index] !== events) {
      errors.push(`${name}: log() accepted ${logged[index]} of ${events}`);
    }
    const counts = await ecl.getGroup(name)!.getCounts(INTERVALS[0], { current: true });
    const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
    if (total !== events) errors.push(`${name}: ${total} counted, expected ${events}`);
  }
  await ecl.close();
  return { value: (GROUPS * events) / seconds, errors };
}

async function single(context: BenchContext) {
  return await measure(context.redis.spec, context.size(EVENTS_PER_GROUP));
}

async function cluster(context: BenchContext) {
  const setup = await startCluster();
  try {
    return await measure(setup.spec, context.size(EVENTS_PER_GROUP));
  } finally {
    await setup.stop();
  }
}

/** The workloads. */
export const workloads: Workload[] = [
  {
    name: "spread-single",
    title: "9 200,000 distinct events over 8 groups × 2 intervals, one Redis",
    unit: "rate",
    reference: "—",
    run: single,
  },
  {
    name: "spread-cluster",
    title: "9 the same against a 3-master Redis Cluster (same machine)",
    unit: "rate",
    reference: "—",
    run: cluster,
  },
];

if (import.meta.main) await benchMain(workloads);

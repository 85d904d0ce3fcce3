/**
 * Workload 5: the master's rotation of one (group, interval) with 100,000 dynamic events. Redis is
 * filled with a raw client pipeline (`cur` keys, and in the steady-state variant also the 100,000
 * `last` keys of the period before, which the rotation deletes), then one
 * `Store.rotate(group, interval, boundary)` is timed. `last` must then hold exactly the 100,000
 * events with their values, and `cur` none.
 *
 * Run alone: `deno run -A bench/rotate.ts [--runs N] [--quick]`.
 * @module
 */
import { parseGroups } from "../lib/config.ts";
import { parseRedis } from "../lib/redis_config.ts";
import { Store } from "../lib/store.ts";
import { type BenchContext, benchMain, getValues, type RawClient, type Workload } from "./_util.ts";

const GROUP = "clients";
const INTERVAL = "1m";
const EVENTS = 100_000;
/** A boundary of the interval (a multiple of 60 s). */
const BOUNDARY = 1_795_000_200;
const PIPELINE_CHUNK = 10_000;

const config = parseGroups({
  [GROUP]: { auto_declare_events: true, intervals: [INTERVAL] },
  warm: { auto_declare_events: true, intervals: [INTERVAL] },
});

function key(slot: "cur" | "last", index: number): string {
  return `${GROUP}:${INTERVAL}:${slot}:e${index}`;
}

async function fill(raw: RawClient, events: number, withLast: boolean): Promise<void> {
  for (let start = 0; start < events; start += PIPELINE_CHUNK) {
    const pipeline = raw.multi();
    for (let i = start; i < Math.min(events, start + PIPELINE_CHUNK); i++) {
      pipeline.set(key("cur", i), String(i + 1));
      // The period before: other values, and only half of the same events.
      if (withLast) pipeline.set(key("last", i + (i & 1) * events), String(7 * i));
    }
    await pipeline.execAsPipeline();
  }
  await raw.set(`${GROUP}:${INTERVAL}:cur:@ts`, String(BOUNDARY - 60));
}

async function check(raw: RawClient, events: number, rotated: number): Promise<string[]> {
  const errors: string[] = [];
  if (rotated !== events) errors.push(`rotate() returned ${rotated}, expected ${events}`);
  const keys = Array.from({ length: events }, (_, i) => key("last", i));
  const values = await getValues(raw, keys);
  let wrong = 0;
  values.forEach((value, i) => {
    if (value === String(i + 1)) return;
    if (++wrong <= 5) errors.push(`${keys[i]} = ${value}, expected ${i + 1}`);
  });
  if (wrong > 5) errors.push(`… ${wrong} last keys wrong in all`);
  let lastKeys = 0;
  for await (
    const batch of raw.scanIterator({ MATCH: `${GROUP}:${INTERVAL}:last:*`, COUNT: 10_000 })
  ) {
    lastKeys += batch.filter((k) => !k.endsWith(":@ts")).length;
  }
  if (lastKeys !== events) errors.push(`last holds ${lastKeys} event keys, expected ${events}`);
  let curKeys = 0;
  for await (
    const batch of raw.scanIterator({ MATCH: `${GROUP}:${INTERVAL}:cur:*`, COUNT: 10_000 })
  ) {
    curKeys += batch.filter((k) => !k.endsWith(":@ts")).length;
  }
  if (curKeys !== 0) errors.push(`cur still holds ${curKeys} event keys`);
  const [ts] = await raw.mGet([`${GROUP}:${INTERVAL}:cur:@ts`]);
  if (ts !== String(BOUNDARY)) errors.push(`cur:@ts = ${ts}, expected ${BOUNDARY}`);
  return errors;
}

function rotation(withLast: boolean) {
  return async (context: BenchContext) => {
    const events = context.size(EVENTS);
    await fill(context.raw, events, withLast);
    const store = new Store(parseRedis(context.redis.spec));
    try {
      await store.ready();
      const started = performance.now();
      const rotated = await store.rotate(
        config.get(GROUP)!,
        config.get(GROUP)!.intervals[0],
        BOUNDARY,
      );
      const ms = performance.now() - started;
      return { value: ms, errors: await check(context.raw, events, rotated) };
    } finally {
      await store.close();
    }
  };
}

/** Load the rotation script into Redis (the first call sends it whole). */
async function warmUp(context: BenchContext): Promise<void> {
  const store = new Store(parseRedis(context.redis.spec));
  try {
    const warm = config.get("warm")!;
    await store.rotate(warm, warm.intervals[0], BOUNDARY);
  } finally {
    await store.close();
  }
}

/** The workloads. */
export const workloads: Workload[] = [
  {
    name: "rotate",
    title: "5 master rotation, 100,000 dynamic events in cur (Store.rotate)",
    unit: "ms",
    target: { value: 150, better: "lower" },
    reference: "Python 1.8 s",
    warmUp,
    run: rotation(false),
  },
  {
    name: "rotate-steady",
    title: "5b same, last also holding 100,000 keys of the period before",
    unit: "ms",
    target: { value: 150, better: "lower" },
    reference: "—",
    warmUp,
    run: rotation(true),
  },
];

if (import.meta.main) await benchMain(workloads);

/**
 * The process of the pending-memory workload. Its logger's Redis is unreachable (a closed port):
 * it logs 1 event, then COUNT distinct auto-declared events, and prints one JSON line with the
 * heap used before and after those and the pending (interval, period, event) counters.
 *
 * MODE `open`: intervals 1m and 1h, measured right after logging (the counts sit in the
 * accumulator's open window, one entry for both intervals). MODE `sealed`: intervals 1s and 2s,
 * measured after the next boundary sealed the window into one batch per (interval, period).
 * MODE `inflight`: intervals 1m and 1h, every event logged in the turn of the first one, so the
 * first flush takes them all: they wait, as the arguments of a script call, in the Redis
 * client's offline queue.
 *
 * Usage: deno run -A --v8-flags=--expose-gc bench/_memory_child.ts MODE COUNT PORT
 * @module
 */
import { nextBoundary } from "../lib/interval.ts";
import { EventCountLogger } from "../mod.ts";
import { nextTurn, sleep } from "./_util.ts";

const [mode, countText, portText] = Deno.args;
const count = Number(countText);
const gc = (globalThis as { gc?: () => void }).gc;

function heapUsed(): number {
  for (let i = 0; i < 3; i++) gc?.();
  return Deno.memoryUsage().heapUsed;
}

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await nextTurn();
}

const warnings: string[] = [];
const ecl = new EventCountLogger(
  {
    mem: {
      auto_declare_events: true,
      intervals: mode === "sealed" ? ["1s", "2s"] : ["1m", "1h"],
    },
  },
  { host: "127.0.0.1", port: Number(portText) },
  { onWarning: (message) => warnings.push(message) },
);
const group = ecl.getGroup("mem")!;
const inflight = mode === "inflight";
group.log("first");
if (!inflight) {
  // Let the first flush start (and wait in the client's offline queue) and the connection fail.
  await turns(10);
  await sleep(50);
}
const before = heapUsed();
const pendingBefore = group.pendingSize;

let accepted = 0;
for (let i = 0; i < count; i++) {
  if (group.log(`client-${i}`)) accepted++;
  if (!inflight && i % 100 === 99) await nextTurn();
}
await turns(10);
await sleep(50);
if (mode === "sealed") {
  // Past the next 2 s boundary: every count was sealed into its (interval, period) batch.
  const now = Date.now() / 1000;
  await sleep((nextBoundary(now, 2) - now) * 1000 + 100);
}
const after = heapUsed();
const pendingAfter = group.pendingSize;
console.log(JSON.stringify({
  gc: gc !== undefined,
  before,
  after,
  pendingBefore,
  pendingAfter,
  accepted,
  dropped: group.droppedCounts,
}));
await ecl.close({ timeoutMs: 100 });
for (const warning of warnings) console.error(`warning: ${warning}`);

/**
 * A logger process for multi-process tests: logs COUNT events spread over EVENTS into GROUP,
 * prints "started" after the first batch, and exits after close(). With ECL_TEST_PACE_MS set, it
 * sleeps that long every 1,000 events (to be still running while a test breaks Redis).
 * Usage: deno run -A tests/_log_worker.ts CONFIG GROUP COUNT EVENT...
 */
import { setImmediate } from "node:timers";
import { EventCountLogger } from "../mod.ts";

const YIELD_EVERY = 1000;
const CLOSE_TIMEOUT_MS = 60_000;

const [config, groupName, countText, ...events] = Deno.args;
const paceMs = Number(Deno.env.get("ECL_TEST_PACE_MS") ?? 0);
const ecl = await EventCountLogger.fromFile(config);
const group = ecl.getGroup(groupName)!;
const count = Number(countText);
for (let i = 0; i < count; i++) {
  group.log(events[i % events.length]);
  // Give the event loop a turn now and then, as a real service would between requests.
  if (i % YIELD_EVERY === YIELD_EVERY - 1) {
    if (i === YIELD_EVERY - 1) console.log("started");
    await new Promise((resolve) =>
      paceMs > 0 ? setTimeout(resolve, paceMs) : setImmediate(resolve)
    );
  }
}
await ecl.close({ timeoutMs: CLOSE_TIMEOUT_MS });

/**
 * A logger process for multi-process tests: logs COUNT events spread over EVENTS into GROUP and
 * exits after close(). Usage: deno run -A tests/_log_worker.ts CONFIG GROUP COUNT EVENT...
 */
import { setImmediate } from "node:timers";
import { EventCountLogger } from "../mod.ts";

const YIELD_EVERY = 1000;

const [config, groupName, countText, ...events] = Deno.args;
const ecl = await EventCountLogger.fromFile(config);
const group = ecl.getGroup(groupName)!;
const count = Number(countText);
for (let i = 0; i < count; i++) {
  group.log(events[i % events.length]);
  // Give the event loop a turn now and then, as a real service would between requests.
  if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
}
await ecl.close();

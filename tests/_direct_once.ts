/**
 * A short-lived library user in direct mode: connects, logs a burst of events, flushes, logs
 * again and closes. For tests/startup_timers_test.ts, which runs it with a timer spy preloaded.
 * Usage: deno run -A tests/_direct_once.ts CONFIG GROUP EVENT
 */
import { EventCountLogger } from "../mod.ts";

const [config, groupName, event] = Deno.args;
const ecl = await EventCountLogger.fromFile(config);
await ecl.ready({ timeoutMs: 10_000 });
const group = ecl.getGroup(groupName)!;
for (let i = 0; i < 100; i++) group.log(event);
await group.flush();
group.log(event, 5);
await Promise.resolve();
group.log(event, 7); // joins the write just started, or goes in the next
await ecl.close();

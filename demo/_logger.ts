/**
 * A demo logger process: logs random request events for DURATION seconds, as a web back end
 * would, then closes and prints how many it logged per event as JSON.
 * Usage: deno run -A demo/_logger.ts CONFIG DURATION
 */
import { EventCountLogger } from "../mod.ts";

const EVENTS = ["req1", "req2", "req3", "error"];
const BURST = 200;
const PAUSE_MS = 5;

const [config, durationText] = Deno.args;
const ecl = await EventCountLogger.fromFile(config);
const requests = ecl.getGroup("requests")!;
const pages = ecl.getGroup("pages")!;
const logged: Record<string, number> = {};
const end = Date.now() + Number(durationText) * 1000;
while (Date.now() < end) {
  for (let i = 0; i < BURST; i++) {
    // Errors are rare; requests are not.
    const event = Math.random() < 0.01 ? "error" : EVENTS[Math.floor(Math.random() * 3)];
    requests.log(event);
    logged[event] = (logged[event] ?? 0) + 1;
    pages.log(`/page/${Math.floor(Math.random() * 5)}`);
  }
  await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
}
await ecl.close();
console.log(JSON.stringify(logged));

// A Node.js logger process: logs COUNT events over four IDs into group "node", then closes.
// Usage: node test/_logger.mjs CONFIG COUNT
import { setImmediate } from "node:timers/promises";
import { EventCountLogger } from "../dist/mod.js";

const [config, countText] = process.argv.slice(2);
const ecl = await EventCountLogger.fromFile(config);
const group = ecl.getGroup("node");
const events = ["a", "b", "c", "d"];
for (let i = 0; i < Number(countText); i++) {
  group.log(events[i % events.length]);
  if (i % 1000 === 999) await setImmediate();
}
await ecl.close();

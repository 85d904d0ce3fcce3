// A Node.js logger in cached mode that never writes by itself: logs COUNT events of group
// "cached", says "ready", and waits for a signal (closeOnSignals() writes them, then the signal
// ends the process). Usage: node test/_signal_logger.mjs CONFIG COUNT
import { EventCountLogger } from "../dist/mod.js";

const [config, countText] = process.argv.slice(2);
const ecl = await EventCountLogger.fromFile(config);
ecl.closeOnSignals();
const group = ecl.getGroup("cached");
await ecl.ready();
for (let i = 0; i < Number(countText); i++) group.log(`e${i % 10}`);
console.log("ready");
setInterval(() => {}, 1 << 30);

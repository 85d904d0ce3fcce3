/**
 * A cached-mode logger that never flushes by itself: it logs COUNT events, says "ready" and waits
 * to be signalled. Usage: deno run -A tests/_signal_worker.ts CONFIG COUNT
 */
import { EventCountLogger } from "../mod.ts";

const [config, countText] = Deno.args;
const ecl = await EventCountLogger.fromFile(config);
ecl.closeOnSignals();
const group = ecl.getGroup("cached")!;
for (let i = 0; i < Number(countText); i++) group.log(`e${i % 10}`);
console.log("ready");
setInterval(() => {}, 1 << 30);

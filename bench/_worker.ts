/**
 * A logger process of the multi-process workload: connects, prints "ready", waits for a "go" line
 * on stdin, runs the direct-mode workload (`log()` cycling through the events, a turn of the
 * event loop every 100 calls, then `flush()`), prints "done <ms>", and closes.
 *
 * Usage: deno run -A bench/_worker.ts PORT GROUP CALLS
 * @module
 */
import { EventCountLogger } from "../mod.ts";
import { EVENTS, INTERVALS, logAndFlush } from "./direct.ts";

const [portText, groupName, callsText] = Deno.args;
const calls = Number(callsText);
const warnings: string[] = [];
const ecl = new EventCountLogger(
  { [groupName]: { events: EVENTS, intervals: INTERVALS } },
  { host: "127.0.0.1", port: Number(portText) },
  { onWarning: (message) => warnings.push(message) },
);
await ecl.ready();
console.log("ready");

// Wait for the "go" line (or the end of stdin).
const decoder = new TextDecoder();
let input = "";
for await (const chunk of Deno.stdin.readable) {
  input += decoder.decode(chunk, { stream: true });
  if (input.includes("\n")) break;
}
if (!input.startsWith("go")) Deno.exit(3);

const started = performance.now();
const accepted = await logAndFlush(ecl.getGroup(groupName)!, calls, (i) => EVENTS[i & 3]);
const ms = performance.now() - started;
console.log(`done ${ms.toFixed(1)} ${accepted}`);
await ecl.close();
for (const warning of warnings) console.error(`warning: ${warning}`);

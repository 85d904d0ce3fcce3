/**
 * One logger process of the soak: logs one event ID of one group as fast as `--batch` per 10 ms
 * allows, prints `{"logged":N}` every 200 ms, and on SIGTERM stops, closes the logger (writing
 * every pending count) and prints `{"final":true,"logged":N,"warnings":[...]}`.
 *
 * `deno run -A soak/_logger.ts CONFIG GROUP EVENT BATCH`
 * @module
 */
import { Socket } from "node:net";
import { EventCountLogger } from "../mod.ts";

// The last socket events (node:net, which the Redis client uses), for a close that takes long.
const trace: string[] = [];
const ids = new WeakMap<object, number>();
let nextId = 0;
const emit = Socket.prototype.emit;
Socket.prototype.emit = function (this: Socket, event: string | symbol, ...args: unknown[]) {
  if (event !== "data" && event !== "drain") {
    if (!ids.has(this)) ids.set(this, ++nextId);
    const detail = args[0] instanceof Error ? ` ${args[0].message}` : "";
    trace.push(
      `${new Date().toISOString().slice(17, 23)} socket ${ids.get(this)} ${String(event)}${detail}`,
    );
    if (trace.length > 40) trace.shift();
  }
  return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
} as typeof Socket.prototype.emit;

const [config, groupName, event, batchText] = Deno.args;
const batch = Number(batchText);
const warnings: string[] = [];
const ecl = await EventCountLogger.fromFile(config, {
  onWarning: (message) => warnings.length < 50 && warnings.push(message),
});
const group = ecl.getGroup(groupName)!;
let logged = 0;
const print = (record: Record<string, unknown>) => console.log(JSON.stringify(record));

const ticker = setInterval(() => {
  for (let i = 0; i < batch; i++) if (group.log(event)) logged++;
}, 10);
const progress = setInterval(() => print({ logged }), 200);

Deno.addSignalListener("SIGTERM", async () => {
  clearInterval(ticker);
  clearInterval(progress);
  // Long enough for any outage of the soak: the soak itself restores Redis before it stops loggers.
  const closing = Date.now();
  const slow = setTimeout(() => {
    console.error(`still closing after 15 s; last socket events:\n${trace.join("\n")}`);
  }, 15_000);
  await ecl.close({ timeoutMs: 120_000 });
  clearTimeout(slow);
  print({ final: true, logged, warnings, closeMs: Date.now() - closing });
  Deno.exit(0);
});
print({ logged, started: true });

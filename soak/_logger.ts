/**
 * One logger process of the soak: logs one event ID of one group as fast as `--batch` per 10 ms
 * allows, prints `{"logged":N}` every 200 ms, and on SIGTERM stops, closes the logger (writing
 * every pending count) and prints `{"final":true,"logged":N,"warnings":[...]}`.
 *
 * Diagnostics: it keeps the last 40 events of every EventEmitter (sockets, the Redis client),
 * socket writes and Redis commands sent and settled, and prints them on stderr when its close
 * takes over 15 s (the soak puts them in its report).
 *
 * `deno run -A soak/_logger.ts CONFIG GROUP EVENT BATCH`
 * @module
 */
import { EventEmitter } from "node:events";
import { Socket } from "node:net";
import { createClient } from "@redis/client";
import { EventCountLogger } from "../mod.ts";

// The last socket events (node:net, which the Redis client uses), for a close that takes long.
const trace: string[] = [];
const ids = new WeakMap<object, number>();
let nextId = 0;
const emit = EventEmitter.prototype.emit;
EventEmitter.prototype.emit = function (this: Socket, event: string | symbol, ...args: unknown[]) {
  if (
    event !== "data" && event !== "drain" && event !== "newListener" && event !== "removeListener"
  ) {
    if (!ids.has(this)) ids.set(this, ++nextId);
    const detail = args[0] instanceof Error ? ` ${args[0].message}` : "";
    trace.push(
      `${new Date().toISOString().slice(17, 23)} ${this.constructor?.name} ${ids.get(this)} ${
        String(event)
      }${detail}`,
    );
    if (trace.length > 40) trace.shift();
  }
  return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
} as typeof EventEmitter.prototype.emit;
const write = Socket.prototype.write;
Socket.prototype.write = function (this: Socket, ...args: unknown[]) {
  if (!ids.has(this)) ids.set(this, ++nextId);
  const chunk = args[0] as { length?: number };
  trace.push(
    `${new Date().toISOString().slice(17, 23)} socket ${ids.get(this)} write ${chunk?.length} (${
      this.connecting ? "connecting" : this.destroyed ? "destroyed" : "open"
    })`,
  );
  if (trace.length > 40) trace.shift();
  return write.apply(this, args as Parameters<typeof write>);
} as typeof Socket.prototype.write;

// Commands sent through the Redis client, and when they settle.
{
  const probe = createClient({});
  let proto = Object.getPrototypeOf(probe);
  while (proto !== null && !Object.hasOwn(proto, "sendCommand")) {
    proto = Object.getPrototypeOf(proto);
  }
  const send = proto.sendCommand;
  let commands = 0;
  proto.sendCommand = function (this: unknown, args: string[], ...rest: unknown[]) {
    const id = ++commands;
    const at = () => new Date().toISOString().slice(17, 23);
    trace.push(`${at()} command ${id} ${args[0]} sent`);
    if (trace.length > 40) trace.shift();
    const reply = send.call(this, args, ...rest) as Promise<unknown>;
    reply.then(
      () => trace.push(`${at()} command ${id} answered`),
      (error: Error) => trace.push(`${at()} command ${id} failed: ${error.message}`),
    ).finally(() => trace.length > 40 && trace.shift());
    return reply;
  };
}

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

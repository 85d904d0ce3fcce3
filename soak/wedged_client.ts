/**
 * Reproduces the hang the soak found (see README, "Chaos soak"): under Deno, a command that the
 * Redis client (node-redis 5) is handed between its socket's `end` and `close` (here: from a
 * setImmediate callback scheduled at `finish`, as a direct-mode flush is) is never answered, and
 * every later command of that client hangs too, although it reconnected and `isReady` is true.
 * Under Node 20 the same steps answer both, and so does node-redis 6 under Deno (ecl's version,
 * redis/node-redis#3209): this repro pins 5.12.1.
 *
 * `deno run -A soak/wedged_client.ts` prints both outcomes and exits 1 while the bug is there.
 * @module
 */
import { EventEmitter } from "node:events";
// deno-lint-ignore no-import-prefix
import { createClient } from "npm:@redis/client@5.12.1";
import { LossyProxy } from "../tests/_proxy.ts";
import { RedisServer } from "../tests/_redis.ts";

const redis = await RedisServer.start();
const proxy = await LossyProxy.start(redis.port);
const client = createClient({
  socket: { host: "127.0.0.1", port: proxy.port, reconnectStrategy: () => 100 },
  disableClientInfo: true,
});
client.on("error", () => {});
await client.connect();
await client.get("k");

let pending: Promise<unknown> | undefined;
const emit = EventEmitter.prototype.emit;
EventEmitter.prototype.emit = function (this: object, event: string | symbol, ...args: unknown[]) {
  if (event === "finish" && this.constructor.name === "Socket" && pending === undefined) {
    pending = new Promise((resolve) =>
      setImmediate(() => resolve(client.set("k", "v").catch((e: Error) => `failed: ${e.message}`)))
    );
  }
  return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
} as typeof emit;
proxy.dropConnections(); // the peer closes the connection (FIN), as after a Redis restart

const within = (promise: Promise<unknown>) =>
  Promise.race([
    promise,
    new Promise((resolve) => setTimeout(() => resolve("no answer in 3 s"), 3000)),
  ]);
await new Promise((resolve) => setTimeout(resolve, 500));
const set = await within(pending!);
const get = await within(client.get("k"));
console.log(`client.isReady: ${client.isReady}`);
console.log(`SET handed over between 'end' and 'close': ${set}`);
console.log(`a GET after the reconnection: ${get}`);
client.destroy();
await proxy.close();
await redis.stop();
Deno.exit(set === "no answer in 3 s" || get === "no answer in 3 s" ? 1 : 0);

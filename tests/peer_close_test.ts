/**
 * Redis closes the connection (a FIN, as on a restart or `CLIENT KILL`) just as a direct-mode
 * logger hands a flush to its client: every count arrives exactly once, and the logger's next
 * flush and its close() finish. The hand-over points cover the turn of the drop, the ones after it
 * and the reconnection; one of them, under Deno, is the one that wedged node-redis 5 for good (see
 * `openConnection` in lib/connection.ts). The first test runs the library's own client (ecl's RESP
 * client in Deno), the second node-redis, which Sentinel, Cluster and unverified TLS use.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { setImmediate } from "node:timers";
import { setConnectionFactory } from "../lib/connection.ts";
import { nodeRedisConnection } from "../lib/node_redis.ts";
import { EventCountLogger } from "../mod.ts";
import { LossyProxy } from "./_proxy.ts";
import { type RawClient, withRedis } from "./_redis.ts";
import { RedisError } from "../lib/errors.ts";
import { sleep, within } from "./_wait.ts";

/** Deadline of each flush (a healthy one takes milliseconds; a reconnection ~0.1 s). */
const FLUSH_DEADLINE_MS = 10_000;

/** Ways to wait before handing the flush over, after the connection was dropped. */
const HANDOVERS: [string, () => Promise<unknown>][] = [
  ["in the same turn", () => Promise.resolve()],
  ["a microtask later", () => new Promise<void>((resolve) => queueMicrotask(resolve))],
  ["at setImmediate", () => new Promise((resolve) => setImmediate(resolve))],
  ["at the second setImmediate", async () => {
    for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
  }],
  ["at a 0 ms timer", () => new Promise((resolve) => setTimeout(resolve, 0))],
  ["after 1 ms", () => new Promise((resolve) => setTimeout(resolve, 1))],
  ["after 5 ms", () => new Promise((resolve) => setTimeout(resolve, 5))],
  ["after 50 ms (reconnecting)", () => new Promise((resolve) => setTimeout(resolve, 50))],
];

/**
 * A direct-mode logger behind a proxy: for every hand-over point, the proxy closes the
 * connection and the logger logs at that point; its flush and a second one finish within the
 * deadline, and Redis has every count once. `atFinish`: also hand a flush over from the
 * `setImmediate` after the client socket's `finish` (node:net sockets only: node-redis).
 */
async function dropWhileFlushing(raw: RawClient, port: number, atFinish: boolean): Promise<void> {
  const proxy = await LossyProxy.start(port);
  const warnings: string[] = [];
  const ecl = new EventCountLogger(
    { g: { events: ["a"], intervals: ["1h"] } },
    { host: "127.0.0.1", port: proxy.port },
    { onWarning: (message) => warnings.push(message) },
  );
  const group = ecl.getGroup("g")!;
  /** Flush until a flush succeeds (one that saw the connection break rejects; the next resends). */
  const flushed = (what: string) =>
    within(
      `answer to ${what}`,
      (async () => {
        for (;;) {
          try {
            return await group.flush();
          } catch (error) {
            if (!(error instanceof RedisError)) throw error;
            await sleep(10);
          }
        }
      })(),
      FLUSH_DEADLINE_MS,
    );
  const emit = EventEmitter.prototype.emit;
  let logged = 0;
  try {
    group.log("a");
    logged++;
    await flushed("the first flush");
    if (atFinish) {
      // The turn after the client socket's `finish` (it follows the peer's FIN, before `close`):
      // a direct-mode flush handed over there.
      EventEmitter.prototype.emit = function (this: unknown, event, ...args) {
        if (event === "finish" && (this as object).constructor.name === "Socket") {
          setImmediate(() => {
            group.log("a");
            logged++;
            group.flush().catch(() => {});
          });
        }
        return emit.call(this, event, ...args);
      };
    }
    for (const [name, wait] of HANDOVERS) {
      assert.ok(proxy.dropConnections() >= 1, `a connection to drop before the hand-over ${name}`);
      await wait();
      group.log("a");
      logged++;
      await flushed(`the flush handed over ${name}`);
      group.log("a");
      logged++;
      await flushed(`the flush after the hand-over ${name}`);
      assert.equal(await raw.get("g:1h:cur:a"), String(logged), `after the hand-over ${name}`);
    }
    EventEmitter.prototype.emit = emit;
    await within("close()", ecl.close({ timeoutMs: FLUSH_DEADLINE_MS }), 2 * FLUSH_DEADLINE_MS);
    assert.equal(await raw.get("g:1h:cur:a"), String(logged));
    assert.ok(warnings.length >= 1, "the outages are reported");
  } finally {
    EventEmitter.prototype.emit = emit;
    await within("end of ecl.close()", ecl.close({ timeoutMs: 1 })).catch(() => {});
    await within("end of proxy.close()", proxy.close());
  }
}

Deno.test({
  name: "a direct-mode flush handed over as Redis closes the connection is written exactly once",
  // node-redis and the proxy keep node:net sockets that close after the test.
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withRedis(async (server) => {
      await dropWhileFlushing(await server.client(), server.port, true);
    }),
});

Deno.test({
  name:
    "node-redis (Sentinel, Cluster, unverified TLS) answers a flush handed over as Redis closes",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withRedis(async (server) => {
      // The same hand-overs through node-redis: 5.12 under Deno hung at the one after `finish`
      // (redis/node-redis#3209); 6 answers each flush, and each count is written exactly once.
      setConnectionFactory(nodeRedisConnection);
      try {
        await dropWhileFlushing(await server.client(), server.port, true);
      } finally {
        setConnectionFactory(undefined);
      }
    }),
});

/**
 * Redis Cluster soak: loggers write into groups spread over the three shards while their masters
 * are killed one after the other, again and again, and their replicas take over; at the end the
 * cluster holds exactly what was logged. Real processes: three masters with a replica each.
 */
import assert from "node:assert/strict";
import { EventCountLogger } from "../mod.ts";
import { startCluster } from "./_cluster.ts";
import { sleep, waitFor, within } from "./_wait.ts";

/** Failovers in a row. */
const FAILOVERS = Number(Deno.env.get("ECL_TEST_FAILOVERS") ?? 12);
const GROUPS = ["g1", "g2", "g3", "g4", "g5", "g6"];

Deno.test(`Redis Cluster soak: ${FAILOVERS} master failovers while loggers write, exact counts`, async () => {
  const cluster = await startCluster(1, { nodeTimeoutMs: 500 });
  const warnings: string[] = [];
  const ecl = new EventCountLogger(
    Object.fromEntries(GROUPS.map((name) => [name, {
      layout: "periods",
      events: ["a"],
      intervals: ["24h"],
    }])),
    cluster.spec,
    { onWarning: (message) => warnings.push(message) },
  );
  const logged = new Map(GROUPS.map((name) => [name, 0]));
  let writing = true;
  const writer = (async () => {
    while (writing) {
      for (const name of GROUPS) {
        for (let i = 0; i < 5; i++) assert.ok(ecl.getGroup(name)!.log("a"));
        logged.set(name, logged.get(name)! + 5);
      }
      await sleep(5);
    }
  })();
  /** Every count of event a in group `name`, over all its periods (a day may begin meanwhile). */
  const countOf = async (name: string) => {
    let count = 0;
    for (const node of await cluster.masters()) {
      const client = await cluster.client(node);
      for (const key of await client.keys(`{${name}:24h:0}:p:*`)) {
        count += Number(await client.hGet(key, "a") ?? 0);
      }
    }
    return count;
  };
  const started = Date.now();
  /** Flush until Redis confirms: a flush to a master that died fails, and is retried. */
  const flushed = (what: string) =>
    waitFor(what, () => ecl.flush().then(() => true, () => false), { everyMs: 100 });
  try {
    await within("first counts written", ecl.flush());
    for (let i = 0; i < FAILOVERS; i++) {
      const masters = await cluster.masters();
      await cluster.failover(masters[i % masters.length]);
    }
    writing = false;
    await writer;
    await flushed(`the last counts written after ${FAILOVERS} failovers`);
    for (const name of GROUPS) {
      assert.equal(await countOf(name), logged.get(name), name);
    }
    let total = 0;
    for (const count of logged.values()) total += count;
    console.log(
      `cluster soak: ${cluster.failovers} failovers in ${Date.now() - started} ms, ` +
        `${total} counts, all written once; ${JSON.stringify(cluster.timings)}`,
    );
  } finally {
    writing = false;
    await writer.catch(() => {});
    await within("end of ecl.close()", ecl.close({ timeoutMs: 2000 }));
    await cluster.stop();
  }
});

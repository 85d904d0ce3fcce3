/**
 * Redis Cluster: three real masters on loopback. Keys of one (group, interval) share a hash tag,
 * so the atomic flush and rotation scripts work on the node that holds them.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../lib/config.ts";
import { Master } from "../lib/master.ts";
import { Store } from "../lib/store.ts";
import { EventCountLogger } from "../mod.ts";
import { runCli, runScript, writeConfig } from "./_process.ts";
import { startCluster } from "./_cluster.ts";
import type { RedisServer } from "./_redis.ts";
import { waitFor } from "./_wait.ts";

const GROUPS = ["g1", "g2", "g3", "g4", "g5", "g6"];

Deno.test("Redis Cluster: log, read and rotate with hash-tagged keys across three masters", async () => {
  const cluster = await startCluster();
  const groups = Object.fromEntries(
    GROUPS.map((
      name,
    ) => [name, { events: ["a"], auto_declare_events: true, intervals: ["1h", "1m"] }]),
  );
  const ecl = new EventCountLogger(groups, cluster.spec);
  try {
    for (const name of GROUPS) {
      const group = ecl.getGroup(name)!;
      for (let i = 0; i < 1000; i++) group.log(i % 2 === 0 ? "a" : "dyn:x");
    }
    await ecl.flush();
    for (const name of GROUPS) {
      assert.equal(await cluster.get(`{${name}:1h}:cur:a`), "500");
      assert.deepEqual(await ecl.getGroup(name)!.getCounts("1m", { current: true }), {
        a: 500,
        "dyn:x": 500,
      });
    }
    // The keys are spread over the masters (each (group, interval) in its own slot).
    const holding = [];
    for (const node of cluster.nodes) {
      holding.push(Number(await (await node.client()).sendCommand(["DBSIZE"])));
    }
    assert.ok(holding.filter((keys) => keys > 0).length >= 2, `keys per node: ${holding}`);

    // The master rotates every (group, interval) on its node.
    const config = parseConfig({ redis: cluster.spec, groups });
    const store = new Store(config.redis);
    const master = new Master(config, store);
    await master.start();
    await master.stop();
    await store.close();
    for (const name of GROUPS) {
      assert.equal(await cluster.get(`{${name}:1m}:last:dyn:x`), "500");
      assert.equal(await cluster.get(`{${name}:1m}:cur:a`), "0");
      assert.deepEqual(await ecl.getGroup(name)!.getCounts("1m"), { a: 500, "dyn:x": 500 });
    }
  } finally {
    await ecl.close();
    await cluster.stop();
  }
});

Deno.test("Redis Cluster: the CLI and two logger processes give exact totals", async () => {
  const cluster = await startCluster();
  const config = await writeConfig(
    `${cluster.yaml}groups:\n  load:\n    events: [e1, e2]\n    intervals: [1h]\n  other:\n    events: [x]\n    intervals: [1h]\n`,
  );
  try {
    const workers = await Promise.all(
      [1, 2].map(() => runScript("tests/_log_worker.ts", [config, "load", "50000", "e1", "e2"])),
    );
    for (const worker of workers) assert.equal(worker.code, 0, worker.stderr);
    assert.equal((await runCli(["log", config, "other", "x", "7"])).code, 0);
    const read = await runCli(["read", config, "-g", "load", "--current"]);
    assert.equal(read.stdout, "e1:50000\ne2:50000\n", read.stderr);
    const other = await runCli(["read", config, "-g", "other", "--current", "-f", "json"]);
    assert.deepEqual(JSON.parse(other.stdout).current.counts, { x: 7 });
  } finally {
    await Deno.remove(config);
    await cluster.stop();
  }
});

Deno.test("Redis Cluster: counts logged while a master fails over to its replica are all written", async () => {
  const cluster = await startCluster(1);
  const ecl = new EventCountLogger({ g: { events: ["a"], intervals: ["1h"] } }, cluster.spec, {
    onWarning: () => {},
  });
  const group = ecl.getGroup("g")!;
  try {
    for (let i = 0; i < 5000; i++) group.log("a");
    await group.flush();
    // The master of {g:1h}'s slot.
    const key = "{g:1h}:cur:a";
    let owner: RedisServer | undefined;
    for (const node of await cluster.masters()) {
      if (await (await cluster.client(node)).sendCommand(["GET", key]).catch(() => null) !== null) {
        owner = node;
      }
    }
    assert.ok(owner !== undefined);
    // Counts logged while its master is down (and, in flight, when it is killed).
    const killing = cluster.failover(owner);
    for (let i = 0; i < 5000; i++) group.log("a");
    await killing;
    const started = Date.now();
    // flush() reports the failed attempts; the counts stay pending until the replica takes over.
    await waitFor(
      "the counts written after the failover",
      () => group.flush().then(() => true, () => false),
      { everyMs: 200 },
    );
    console.log(`cluster failover: counts written ${Date.now() - started} ms after it`);
    assert.equal(await cluster.get(key), "10000");
  } finally {
    await ecl.close({ timeoutMs: 2000 });
    await cluster.stop();
  }
});

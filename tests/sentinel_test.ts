/**
 * Redis Sentinel: ecl follows the master that the sentinels name, through a failover. Real
 * processes: a master, a replica and one sentinel, on free loopback ports.
 */
import assert from "node:assert/strict";
import { createClient } from "@redis/client";
import { parseConfig } from "../lib/config.ts";
import { Master } from "../lib/master.ts";
import { Store } from "../lib/store.ts";
import { EventCountLogger } from "../mod.ts";
import { runCli, writeConfig } from "./_process.ts";
import { freePort, RedisServer } from "./_redis.ts";
import { waitFor } from "./_wait.ts";

const MASTER_NAME = "ecl-test";

/** A master, its replica and one sentinel watching them. */
async function startSentinelSetup() {
  const master = await RedisServer.start();
  const replica = await RedisServer.start(["--replicaof", "127.0.0.1", String(master.port)]);
  const dir = await Deno.makeTempDir({ prefix: "ecl-sentinel-" });
  const port = await freePort();
  const conf = `${dir}/sentinel.conf`;
  await Deno.writeTextFile(
    conf,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 1`,
      `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
      `sentinel failover-timeout ${MASTER_NAME} 3000`,
      "",
    ].join("\n"),
  );
  const sentinel = new Deno.Command("redis-server", {
    args: [conf, "--sentinel"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const client = createClient({ socket: { host: "127.0.0.1", port } });
  client.on("error", () => {});
  await waitFor(`sentinel listening on port ${port}`, async () => {
    try {
      await client.connect();
      return true;
    } catch {
      return false;
    }
  }, { everyMs: 10 });
  // The sentinel learns about the replica from the master's INFO, and the replica must be in sync.
  await waitFor("replica known to the sentinel", async () => {
    const replicas = await client.sendCommand(["SENTINEL", "REPLICAS", MASTER_NAME]) as unknown[];
    return replicas.length > 0;
  });
  const replicaClient = await replica.client();
  await waitFor("replica in sync with its master", async () => {
    const info = await replicaClient.sendCommand(["INFO", "replication"]) as string;
    return info.includes("master_link_status:up");
  });
  return {
    master,
    replica,
    port,
    spec: { sentinel: { name: MASTER_NAME, nodes: [`127.0.0.1:${port}`] } },
    yaml: `redis:\n  sentinel:\n    name: ${MASTER_NAME}\n    nodes: ["127.0.0.1:${port}"]\n`,
    async stop() {
      client.destroy();
      sentinel.kill("SIGTERM");
      await sentinel.status;
      await replica.stop();
      await master.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("ecl log, ecl read and ecl master through Redis Sentinel", async () => {
  const setup = await startSentinelSetup();
  const config = await writeConfig(
    `${setup.yaml}groups:\n  g:\n    events: [a, b]\n    intervals: [1h]\n`,
  );
  try {
    const logged = await runCli(["log", config, "g", "a", "5"]);
    assert.equal(logged.code, 0, logged.stderr);
    const read = await runCli(["read", config, "-g", "g", "--current"]);
    assert.equal(read.stdout, "a:5\nb:0\n", read.stderr);
    const raw = await setup.master.client();
    assert.equal(await raw.get("g:1h:cur:a"), "5");
    // The master rotates through the sentinel too.
    const parsed = parseConfig({
      redis: setup.spec,
      groups: { g: { events: ["a"], intervals: ["1h"] } },
    });
    const store = new Store(parsed.redis);
    const master = new Master(parsed, store);
    await master.start();
    await master.stop();
    await store.close();
    assert.equal(await raw.get("g:1h:cur:@ts"), String(Math.floor(Date.now() / 3_600_000) * 3600));
    const failed = await runCli(["read", config, "-g", "nope"]);
    assert.equal(failed.code, 1);
  } finally {
    await Deno.remove(config);
    await setup.stop();
  }
});

Deno.test("EventGroup through Redis Sentinel: counts logged during a failover are all written", async () => {
  const setup = await startSentinelSetup();
  const warnings: string[] = [];
  const ecl = new EventCountLogger(
    { g: { events: ["a"], intervals: ["1h"] } },
    setup.spec,
    { onWarning: (message) => warnings.push(message) },
  );
  const group = ecl.getGroup("g")!;
  try {
    for (let i = 0; i < 5000; i++) group.log("a");
    await group.flush();
    // Replication is asynchronous: make sure the replica has what the master confirmed, since
    // a failover loses what it has not (a limit of Redis, documented).
    const master = await setup.master.client();
    assert.equal(await master.sendCommand(["WAIT", "1", "15000"]), 1);
    await setup.master.kill();
    for (let i = 0; i < 5000; i++) group.log("a");
    const started = Date.now();
    await group.flush(); // waits for the sentinel to promote the replica
    const failoverMs = Date.now() - started;
    const promoted = await setup.replica.client();
    assert.equal(await promoted.get("g:1h:cur:a"), "10000");
    assert.deepEqual(await group.getCounts("1h", { current: true }), { a: 10000 });
    console.log(`sentinel failover: counts written ${failoverMs} ms after the master died`);
  } finally {
    await ecl.close({ timeoutMs: 2000 });
    await setup.stop();
  }
});

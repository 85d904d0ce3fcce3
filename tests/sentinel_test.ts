/**
 * Redis Sentinel: ecl follows the master that the sentinels name, through a failover. Real
 * processes: a master, a replica and one sentinel, on free loopback ports.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../lib/config.ts";
import { parseRedis } from "../lib/redis_config.ts";
import { Master } from "../lib/master.ts";
import { nodeRedisConnection } from "../lib/node_redis.ts";
import { Store } from "../lib/store.ts";
import { EventCountLogger } from "../mod.ts";
import { runCli, writeConfig } from "./_process.ts";
import { MASTER_NAME, startSentinel } from "./_sentinel.ts";
import { type RawClient, waitForReplica } from "./_redis.ts";
import { waitFor, within } from "./_wait.ts";

Deno.test("Sentinel client errors name the master the sentinels named (no server needed)", () => {
  const config = parseRedis({ sentinel: { name: "m", nodes: ["127.0.0.1:1"] } });
  for (const reconnect of [true, false]) {
    const client = nodeRedisConnection(config, { reconnect, offlineQueue: true }, undefined);
    const waiting = reconnect ? " (waiting for them to name a master that answers)" : "";
    // Before any master failed: the marker of the node clients' reconnect strategy.
    assert.equal(
      client.explain(new Error("no valid master node")).message,
      `the sentinels name no master that is up${waiting}`,
    );
    const refused = new Error("connect ECONNREFUSED 10.0.0.5:6379");
    assert.equal(
      client.explain(new Error("Master Client (10.0.0.5:6379): x", { cause: refused })).message,
      `master 10.0.0.5:6379 named by the sentinels: connect ECONNREFUSED 10.0.0.5:6379${waiting}`,
    );
    // Later, the marker stands for the master that failed last.
    assert.equal(
      client.explain(new Error("no valid master node")).message,
      `master 10.0.0.5:6379 named by the sentinels: connect ECONNREFUSED 10.0.0.5:6379${waiting}`,
    );
    assert.equal(client.explain("odd").message, "odd");
    const other = new Error("other");
    assert.equal(client.explain(other), other);
    assert.equal(client.replyEndsOutage, true);
  }
  const plain = nodeRedisConnection(
    parseRedis({}),
    { reconnect: true, offlineQueue: true },
    undefined,
  );
  const marker = new Error("no valid master node");
  assert.equal(plain.explain(marker), marker);
  assert.equal(plain.replyEndsOutage, false);
});

Deno.test("ecl log, ecl read and ecl master through Redis Sentinel", async () => {
  const setup = await startSentinel();
  const config = await writeConfig(
    `${setup.yaml}groups:\n  g:\n    events: [a, b]\n    intervals: [1h]\n`,
  );
  try {
    const logged = await runCli(["log", config, "g", "a", "5"]);
    assert.equal(logged.code, 0, logged.stderr);
    const read = await runCli(["read", config, "-g", "g", "--current"]);
    assert.equal(read.stdout, "a:5\nb:0\n", read.stderr);
    const raw = await setup.client(setup.nodes[0]);
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
    await within("end of store.close()", store.close());
    assert.equal(await raw.get("g:1h:cur:@ts"), String(Math.floor(Date.now() / 3_600_000) * 3600));
    const failed = await runCli(["read", config, "-g", "nope"]);
    assert.equal(failed.code, 1);
  } finally {
    await Deno.remove(config);
    await setup.stop();
  }
});

Deno.test("EventGroup through Redis Sentinel: counts logged during a failover are all written", async () => {
  const setup = await startSentinel();
  const warnings: string[] = [];
  const ecl = new EventCountLogger(
    { g: { events: ["a"], intervals: ["1h"] } },
    setup.spec,
    { onWarning: (message) => warnings.push(message) },
  );
  const group = ecl.getGroup("g")!;
  try {
    for (let i = 0; i < 5000; i++) group.log("a");
    await within("end of group.flush()", group.flush());
    // Replication is asynchronous: make sure the replica has what the master confirmed, since
    // a failover loses what it has not (a limit of Redis, documented).
    await waitForReplica(await setup.client(setup.nodes[0]), await setup.client(setup.nodes[1]));
    await setup.nodes[0].kill();
    for (let i = 0; i < 5000; i++) group.log("a");
    const started = Date.now();
    // Waits for the sentinel to promote the replica.
    await within("the counts written to the promoted replica", group.flush());
    const failoverMs = Date.now() - started;
    const promoted = await setup.client(setup.nodes[1]);
    assert.equal(await promoted.get("g:1h:cur:a"), "10000", warnings.join("\n"));
    assert.deepEqual(
      await within("end of group.getCounts()", group.getCounts("1h", { current: true })),
      { a: 10000 },
    );
    console.log(`sentinel failover: counts written ${failoverMs} ms after the master died`);
  } finally {
    await within("end of ecl.close()", ecl.close({ timeoutMs: 2000 }));
    await setup.stop();
  }
});

/** IDs of the connections to `raw`'s server that have no name and are not `raw`'s or a replica's. */
async function loggerConnections(raw: RawClient): Promise<string[]> {
  const own = String(await raw.sendCommand(["CLIENT", "ID"]));
  const list = String(await raw.sendCommand(["CLIENT", "LIST"]));
  return list.trim().split("\n").map((line) =>
    Object.fromEntries(line.split(" ").map((field) => field.split("=", 2)))
  ).filter((client) => client.id !== own && client.name === "" && !client.flags.includes("S")).map((
    client,
  ) => client.id);
}

Deno.test("Redis Sentinel: a logger that cannot connect to the master the sentinel names follows the next failover", async () => {
  // The first master is reached through a proxy, which then refuses new connections while the
  // sentinel's stay up: the sentinel sees the master healthy and keeps naming it, the logger
  // cannot reconnect to it. (So it is, for a moment, when a master dies and a logger notices it
  // before the sentinel does: node-redis then waited for that master for ever.)
  const setup = await startSentinel({ proxyFirst: true });
  const warnings: string[] = [];
  const ecl = new EventCountLogger({ g: { events: ["a"], intervals: ["24h"] } }, setup.spec, {
    onWarning: (message) => warnings.push(message),
  });
  const group = ecl.getGroup("g")!;
  try {
    group.log("a", 5);
    await within("the first counts written", group.flush());
    setup.proxy!.refuse();
    const old = await setup.client(setup.nodes[0]);
    // Replication is asynchronous: the replica must hold the first counts before it is promoted.
    await waitForReplica(old, await setup.client(setup.nodes[1]));
    const drop = await loggerConnections(old);
    assert.ok(drop.length > 0, "the logger is connected");
    for (const id of drop) await old.sendCommand(["CLIENT", "KILL", "ID", id]);
    group.log("a", 7);
    const flushed = group.flush();
    flushed.catch(() => {});
    const named = `127.0.0.1:${setup.proxy!.port}`;
    await waitFor(
      `a warning naming the unreachable master ${named}`,
      () => Promise.resolve(warnings.some((warning) => warning.includes(named))),
    );
    assert.match(
      warnings[0],
      new RegExp(
        `^Cannot reach Redis at redis-sentinel://127\\.0\\.0\\.1:${setup.port}/ecl-test/0: master ${named} named by the sentinels: `,
      ),
    );
    // The sentinel promotes the replica: the logger must follow it.
    assert.equal(await setup.command(["SENTINEL", "FAILOVER", MASTER_NAME]), "OK");
    await within("the counts written to the promoted replica", flushed);
    const promoted = await setup.client(setup.nodes[1]);
    assert.equal(await promoted.get("g:24h:cur:a"), "12");
  } finally {
    await within("end of ecl.close()", ecl.close({ timeoutMs: 2000 }));
    await setup.stop();
  }
});

Deno.test("Redis Sentinel: with no master to reach, counts are kept, a warning says what is awaited, and they are written when it is back", async () => {
  const setup = await startSentinel({ noReplica: true });
  const warnings: string[] = [];
  const printed: unknown[] = [];
  const log = console.log;
  // node-redis prints some failures with console.log (to stdout, a reader's data): none may be.
  console.log = (...args: unknown[]) => printed.push(args);
  const ecl = new EventCountLogger({ g: { events: ["a"], intervals: ["24h"] } }, setup.spec, {
    onWarning: (message) => warnings.push(message),
  });
  const group = ecl.getGroup("g")!;
  const [node] = setup.nodes;
  try {
    await within("the logger connected", ecl.ready());
    await node.kill();
    for (let i = 0; i < 1000; i++) group.log("a");
    const flushed = group.flush();
    await waitFor(
      "a warning naming the master awaited",
      () => Promise.resolve(warnings.length > 0),
    );
    assert.match(
      warnings[0],
      new RegExp(
        `^Cannot reach Redis at redis-sentinel://127\\.0\\.0\\.1:${setup.port}/ecl-test/0: master 127\\.0\\.0\\.1:${node.port} named by the sentinels: .*counts are kept`,
      ),
    );
    // A caller may bound the wait; the counts stay pending.
    await assert.rejects(
      within("end of group.flush()", group.flush({ timeoutMs: 200 })),
      /did not confirm them within 0\.2 s/,
    );
    // Counts keep coming meanwhile, kept in memory.
    for (let i = 0; i < 1000; i++) group.log("a");
    assert.ok(group.pendingSize > 0);
    await node.restart();
    await within("the counts written once the master is back", flushed);
    await within("the rest written", group.flush());
    const raw = await setup.client(node);
    assert.equal(await raw.get("g:24h:cur:a"), "2000");
    // One warning for the outage, one line when it is over.
    assert.equal(warnings.length, 2, warnings.join("\n"));
    assert.equal(
      warnings[1],
      `Reconnected to Redis at redis-sentinel://127.0.0.1:${setup.port}/ecl-test/0`,
    );
    assert.deepEqual(printed, []);
  } finally {
    console.log = log;
    await within("end of ecl.close()", ecl.close({ timeoutMs: 2000 }));
    await setup.stop();
  }
});

Deno.test("Redis Sentinel: ecl read with no master that answers fails at once, naming it, with nothing on stdout", async () => {
  const setup = await startSentinel({ noReplica: true });
  const config = await writeConfig(
    `${setup.yaml}groups:\n  g:\n    events: [a]\n    intervals: [1h]\n`,
  );
  try {
    await setup.nodes[0].kill();
    const started = Date.now();
    const read = await runCli(["read", config, "-g", "g", "--current"]);
    const tookMs = Date.now() - started;
    assert.equal(read.code, 3, read.stderr);
    assert.equal(read.stdout, "");
    assert.match(
      read.stderr,
      new RegExp(
        `^ERROR: Cannot connect to Redis at redis-sentinel://127\\.0\\.0\\.1:${setup.port}/ecl-test/0: (master 127\\.0\\.0\\.1:${
          setup.nodes[0].port
        } named by the sentinels: .*|the sentinels name no master that is up)\\n$`,
      ),
    );
    console.log(`ecl read without a master: exit 3 after ${tookMs} ms`);
  } finally {
    await Deno.remove(config);
    await setup.stop();
  }
});

/**
 * Redis Cluster: three real masters on loopback, groups in the `periods` layout (the only one a
 * cluster config accepts). Every key of one shard shares a hash tag, so the write script is atomic
 * per shard; the shards of a group spread over the masters.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../lib/config.ts";
import { ConfigError } from "../lib/errors.ts";
import { EventCountLogger } from "../mod.ts";
import { runCli, runScript, writeConfig } from "./_process.ts";
import { startCluster } from "./_cluster.ts";
import type { RedisServer } from "./_redis.ts";
import { waitFor, within } from "./_wait.ts";

const GROUPS = ["g1", "g2", "g3", "g4", "g5", "g6"];

/** Keys matching `pattern` on every running master. */
async function keysOnMasters(nodes: RedisServer[], pattern: string): Promise<string[][]> {
  const found: string[][] = [];
  for (const node of nodes.filter((node) => node.running)) {
    const raw = await node.client();
    const role = String((await raw.sendCommand(["ROLE"]) as unknown as unknown[])[0]);
    if (role === "master") found.push((await raw.keys(pattern)).sort());
  }
  return found;
}

Deno.test("Redis Cluster: log and read periods groups sharded across three masters", async () => {
  const cluster = await startCluster();
  const groups = Object.fromEntries(
    GROUPS.map((name) => [name, {
      layout: "periods" as const,
      events: ["a"],
      auto_declare_events: true,
      intervals: ["1h", "1m"],
      max_events: 100_000,
    }]),
  );
  const ecl = new EventCountLogger(groups, cluster.spec);
  try {
    for (const name of GROUPS) {
      const group = ecl.getGroup(name)!;
      for (let i = 0; i < 1000; i++) group.log(i % 2 === 0 ? "a" : `dyn:${i % 50}`);
    }
    await within("end of ecl.flush()", ecl.flush());
    for (const name of GROUPS) {
      const counts = await ecl.getGroup(name)!.getCounts("1h", { current: true });
      assert.equal(counts.a, 500);
      assert.equal(Object.keys(counts).length, 26);
      assert.equal(Object.values(counts).reduce((sum, n) => sum + n, 0), 1000);
      // Nothing finished yet: "last" has the predeclared event at 0.
      assert.deepEqual(await ecl.getGroup(name)!.getCounts("1m"), { a: 0 });
    }
    // 16 shards per (group, interval): spread over every master.
    const perNode = await keysOnMasters(cluster.nodes, "{g*:p:*");
    assert.equal(perNode.length, 3);
    assert.ok(perNode.every((keys) => keys.length > 0), `period keys per node: ${perNode}`);
    // No python-layout keys anywhere.
    assert.deepEqual((await keysOnMasters(cluster.nodes, "*:cur:*")).flat(), []);
  } finally {
    await within("end of ecl.close()", ecl.close());
    await cluster.stop();
  }
});

Deno.test("Redis Cluster: a python-layout group is refused in one line", async () => {
  const cluster = await startCluster();
  const config = await writeConfig(`${cluster.yaml}groups:\n  old:\n    intervals: [1h]\n`);
  try {
    assert.throws(
      () => parseConfig({ redis: cluster.spec, groups: { old: { intervals: ["1h"] } } }),
      ConfigError,
    );
    const read = await runCli(["read", config, "-g", "old"]);
    assert.equal(read.code, 2);
    assert.match(
      read.stderr,
      /^ERROR: .*groups\.old\.layout: Cannot use layout "python" in a Redis Cluster/,
    );
    assert.equal(read.stderr.trim().split("\n").length, 1);
  } finally {
    await Deno.remove(config);
    await cluster.stop();
  }
});

Deno.test("Redis Cluster: the CLI and two logger processes give exact totals", async () => {
  const cluster = await startCluster();
  const config = await writeConfig(
    `${cluster.yaml}groups:\n  load:\n    layout: periods\n    events: [e1, e2]\n    intervals: [1h]\n  other:\n    layout: periods\n    events: [x]\n    intervals: [1h]\n`,
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
    // ecl status: no master needed; Redis's clock read from a node (a script without keys).
    const status = await runCli(["status", config]);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(
      status.stdout,
      /^ECL OK - redis up, no master needed, 2 intervals in layout periods, this host's clock within 0\.\d s of Redis's\n/,
    );
  } finally {
    await Deno.remove(config);
    await cluster.stop();
  }
});

Deno.test("Redis Cluster: counts logged while a master fails over to its replica are all written", async () => {
  const cluster = await startCluster(1);
  const ecl = new EventCountLogger(
    { g: { layout: "periods", events: ["a"], intervals: ["1h"] } },
    cluster.spec,
    { onWarning: () => {} },
  );
  const group = ecl.getGroup("g")!;
  try {
    for (let i = 0; i < 5000; i++) group.log("a");
    await within("end of group.flush()", group.flush());
    // The master of shard 0 of g:1h.
    let owner: RedisServer | undefined;
    for (const node of await cluster.masters()) {
      const keys = await (await cluster.client(node)).sendCommand(["KEYS", "{g:1h:0}:p:*"])
        .catch(() => []) as unknown as string[];
      if (keys.length > 0) owner = node;
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
    // A read may still meet the cluster settling (the slot map of another connection): retried.
    let counts: Record<string, number> | undefined;
    await waitFor("a read of g:1h after the failover", async () => {
      counts = await group.getCounts("1h", { current: true }).catch(() => undefined);
      return counts !== undefined;
    }, { timeoutMs: 20_000, everyMs: 200 });
    assert.deepEqual(counts, { a: 10000 });
  } finally {
    await within("end of ecl.close()", ecl.close({ timeoutMs: 2000 }));
    await cluster.stop();
  }
});

/** A real Redis Cluster on loopback, for tests and benchmarks. */
import assert from "node:assert/strict";
import { freePort, RedisServer } from "./_redis.ts";
import { waitFor } from "./_wait.ts";

/** Three masters, each with `replicas` replicas. */
export async function startCluster(replicas = 0) {
  const nodes: RedisServer[] = [];
  for (let i = 0; i < 3 * (1 + replicas); i++) {
    nodes.push(
      await RedisServer.start([
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        "2000",
        "--cluster-port",
        String(await freePort()),
      ]),
    );
  }
  const created = await new Deno.Command("redis-cli", {
    args: [
      "--cluster",
      "create",
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      "--cluster-replicas",
      String(replicas),
      "--cluster-yes",
    ],
    stdin: "null",
  }).output();
  assert.equal(created.code, 0, new TextDecoder().decode(created.stdout));
  // Every node sees the cluster up, and every master has its replicas in sync: a replica is assigned
  // (CLUSTER REPLICATE) after the slots, so it may still be syncing when cluster_state is ok.
  for (const node of nodes) {
    const raw = await node.client();
    await waitFor(`Redis Cluster: port ${node.port} up with its replicas in sync`, async () => {
      const info = await raw.sendCommand(["CLUSTER", "INFO"]) as string;
      const replication = await raw.sendCommand(["INFO", "replication"]) as string;
      const inSync = replication.includes("role:slave")
        ? replication.includes("master_link_status:up")
        : (replication.match(/^slave\d+:.*state=online/gm) ?? []).length >= replicas;
      return info.includes("cluster_state:ok") && inSync;
    });
  }
  return {
    nodes,
    yaml: `redis:\n  cluster:\n    nodes: [${
      nodes.map((node) => `"127.0.0.1:${node.port}"`).join(", ")
    }]\n`,
    spec: { cluster: { nodes: nodes.map((node) => `127.0.0.1:${node.port}`) } },
    /** Value of `key` on whichever node has it. */
    async get(key: string): Promise<string | null> {
      for (const node of nodes.filter((node) => node.running)) {
        try {
          const raw = await node.client();
          if (String((await raw.sendCommand(["ROLE"]) as unknown as unknown[])[0]) !== "master") {
            continue;
          }
          const value = await raw.sendCommand(["GET", key]);
          if (value !== null) return String(value);
        } catch {
          // Not this node's slot (MOVED), or the node is down.
        }
      }
      return null;
    },
    async stop() {
      for (const node of nodes) await node.stop();
    },
  };
}

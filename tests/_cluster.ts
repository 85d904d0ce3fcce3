/** A real Redis Cluster on loopback, for tests and benchmarks; it can fail a master over. */
import assert from "node:assert/strict";
import { freePort, type RawClient, RedisServer, waitForReplica } from "./_redis.ts";
import { waitFor } from "./_wait.ts";

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** `cluster-node-timeout`: how long a master may not answer before its replica takes over. */
  nodeTimeoutMs?: number;
}

/** Three masters, each with `replicas` replicas. */
export async function startCluster(replicas = 0, options: ClusterOptions = {}) {
  const nodes: RedisServer[] = [];
  for (let i = 0; i < 3 * (1 + replicas); i++) {
    nodes.push(
      await RedisServer.start([
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        String(options.nodeTimeoutMs ?? 2000),
        "--cluster-port",
        String(await freePort()),
        // A full sync starts at once, not after 5 s waiting for more replicas.
        "--repl-diskless-sync-delay",
        "0",
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
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(created.code, 0, new TextDecoder().decode(created.stdout));
  const raw = new Map<RedisServer, RawClient>();
  /** A raw client of `node`, kept (and replaced when its server was restarted). */
  const clientOf = async (node: RedisServer) => {
    let client = raw.get(node);
    if (client === undefined || !client.isReady) {
      client?.destroy();
      client = await node.client();
      raw.set(node, client);
    }
    return client;
  };
  const role = async (node: RedisServer) =>
    String((await (await clientOf(node)).sendCommand(["ROLE"]) as unknown[])[0]);
  /**
   * Every running node sees the cluster up, and every master has its replicas in sync: a replica is
   * assigned (CLUSTER REPLICATE) after the slots, so it may still be syncing when cluster_state is
   * ok.
   */
  const settled = async () => {
    for (const node of nodes.filter((node) => node.running)) {
      await waitFor(`Redis Cluster: port ${node.port} up with its replicas in sync`, async () => {
        const client = await clientOf(node);
        const info = await client.sendCommand(["CLUSTER", "INFO"]) as string;
        const replication = await client.sendCommand(["INFO", "replication"]) as string;
        const inSync = replication.includes("role:slave")
          ? replication.includes("master_link_status:up")
          : (replication.match(/^slave\d+:.*state=online/gm) ?? []).length >= replicas;
        return info.includes("cluster_state:ok") && inSync;
      });
    }
  };
  await settled();
  let failovers = 0;
  const timings: { promotionMs: number; rejoinMs: number }[] = [];
  return {
    nodes,
    yaml: `redis:\n  cluster:\n    nodes: [${
      nodes.map((node) => `"127.0.0.1:${node.port}"`).join(", ")
    }]\n`,
    spec: { cluster: { nodes: nodes.map((node) => `127.0.0.1:${node.port}`) } },
    /** A raw client of `node` (kept, closed by `stop()`). */
    client: clientOf,
    /** The running masters. */
    async masters(): Promise<RedisServer[]> {
      const masters = [];
      for (const node of nodes.filter((node) => node.running)) {
        if (await role(node) === "master") masters.push(node);
      }
      return masters;
    },
    /** Failovers done by {@link failover}, and how long each took. */
    get failovers(): number {
      return failovers;
    },
    timings,
    /**
     * Fail `master` over to its replica: hold its writes (`CLIENT PAUSE WRITE`: commands in flight
     * stay unanswered) until the replica has all it wrote, SIGKILL it, wait until the replica has
     * taken over, restart it (it rejoins as a replica of the new master) and wait until the
     * cluster is settled. Returns the new master.
     */
    async failover(master: RedisServer): Promise<RedisServer> {
      const client = await clientOf(master);
      const id = String(await client.sendCommand(["CLUSTER", "MYID"]));
      let found: RedisServer | undefined;
      // The cluster learns by gossip that a restarted node is a replica now.
      await waitFor(`the cluster knowing a replica of port ${master.port}`, async () => {
        const lines = String(await client.sendCommand(["CLUSTER", "NODES"])).trim().split("\n");
        const port = lines.map((line) => line.split(" "))
          .filter((fields) => fields[3] === id && fields[2] === "slave")
          .map((fields) => Number(/:(\d+)@/.exec(fields[1])?.[1]))[0];
        found = nodes.find((node) => node.port === port && node.running);
        return found !== undefined;
      });
      const replica = found!;
      await client.sendCommand(["CLIENT", "PAUSE", "10000", "WRITE"]);
      await waitForReplica(client, await clientOf(replica), `replica ${replica.port}`);
      raw.get(master)?.destroy();
      raw.delete(master);
      await master.kill();
      const killed = Date.now();
      await waitFor(
        `port ${replica.port} taking over from port ${master.port}`,
        async () => await role(replica) === "master",
      );
      const promoted = Date.now();
      await master.restart();
      await waitFor(
        `port ${master.port} rejoining as a replica of port ${replica.port}`,
        async () => {
          const info = await (await clientOf(master)).sendCommand([
            "INFO",
            "replication",
          ]) as string;
          return info.includes(`master_port:${replica.port}`) &&
            info.includes("master_link_status:up");
        },
      );
      await settled();
      failovers++;
      timings.push({ promotionMs: promoted - killed, rejoinMs: Date.now() - promoted });
      return replica;
    },
    /** Value of `key` on whichever node has it. */
    async get(key: string): Promise<string | null> {
      for (const node of nodes.filter((node) => node.running)) {
        try {
          if (await role(node) !== "master") continue;
          const value = await (await clientOf(node)).sendCommand(["GET", key]);
          if (value !== null) return String(value);
        } catch {
          // Not this node's slot (MOVED), or the node is down.
        }
      }
      return null;
    },
    async stop() {
      for (const client of raw.values()) client.destroy();
      for (const node of nodes) await node.stop();
    },
  };
}

/** A started {@link startCluster} cluster. */
export type Cluster = Awaited<ReturnType<typeof startCluster>>;

/**
 * A real Redis Sentinel setup on loopback for tests: two data nodes (one master, one replica) and
 * one sentinel, which can fail over back and forth: kill the master, wait for the sentinel to
 * promote the replica, restart the old master as a replica of the new one.
 */
import { createClient } from "@redis/client";
import { connect, createServer, type Server, type Socket } from "node:net";
import { freePort, type RawClient, RedisServer, waitForReplica } from "./_redis.ts";
import { waitFor, within } from "./_wait.ts";

/** The master name the sentinel monitors. */
export const MASTER_NAME = "ecl-test";
/** How long the sentinel waits before it takes an unanswering master for down. */
const DOWN_AFTER_MS = 700;
/** Deadline of one failover (detection, election, promotion). */
const FAILOVER_TIMEOUT_MS = 20_000;

/** Options of the data nodes: a full sync starts at once (not after 5 s, waiting for more replicas). */
const NODE_ARGS = ["--repl-diskless-sync-delay", "0"];

/** Options of {@link startSentinel}. */
export interface SentinelOptions {
  /** Start without a replica (nothing to promote). @default false */
  noReplica?: boolean;
  /**
   * Monitor the first master through a TCP proxy (the sentinel and its clients reach it there),
   * which a test can make refuse new connections while those made stay up.
   * @default false
   */
  proxyFirst?: boolean;
}

/** A TCP proxy to a loopback port; {@link Proxy.refuse} stops it accepting new connections. */
export class Proxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** The proxy's port. */
  readonly port: number;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  /** Start a proxy to `127.0.0.1:target` on a free port. */
  static start(target: number): Promise<Proxy> {
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      const upstream = connect(target, "127.0.0.1");
      for (const [from, to] of [[client, upstream], [upstream, client]]) {
        sockets.add(from);
        from.pipe(to);
        from.on("error", () => to.destroy());
        from.on("close", () => {
          sockets.delete(from);
          to.destroy();
        });
      }
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        const proxy = new Proxy(server, typeof address === "object" && address ? address.port : 0);
        for (const socket of sockets) proxy.#sockets.add(socket);
        sockets.clear();
        // Later connections: tracked by the proxy itself.
        server.on("connection", (socket) => proxy.#sockets.add(socket));
        resolve(proxy);
      });
    });
  }

  /** Refuse new connections from now on; the connections made stay up. */
  refuse(): void {
    this.#server.close();
  }

  /** Close every connection and stop listening. */
  close(): void {
    this.#server.close();
    for (const socket of this.#sockets) socket.destroy();
  }
}

/** A master, its replica and one sentinel watching them. */
export async function startSentinel(options: SentinelOptions = {}) {
  const first = await RedisServer.start(NODE_ARGS);
  const nodes = [first];
  if (!options.noReplica) {
    nodes.push(
      await RedisServer.start([...NODE_ARGS, "--replicaof", "127.0.0.1", String(first.port)]),
    );
  }
  const proxy = options.proxyFirst ? await Proxy.start(first.port) : undefined;
  /** The address (port) of each node as the sentinel and its clients know it. */
  const portOf = (node: RedisServer) =>
    node === first && proxy !== undefined ? proxy.port : node.port;
  const dir = await Deno.makeTempDir({ prefix: "ecl-sentinel-" });
  const port = await freePort();
  const conf = `${dir}/sentinel.conf`;
  await Deno.writeTextFile(
    conf,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `logfile ${dir}/sentinel.log`,
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${portOf(first)} 1`,
      `sentinel down-after-milliseconds ${MASTER_NAME} ${DOWN_AFTER_MS}`,
      `sentinel failover-timeout ${MASTER_NAME} 3000`,
      "",
    ].join("\n"),
  );
  const process = new Deno.Command("redis-server", {
    args: [conf, "--sentinel"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const sentinel = createClient({ socket: { host: "127.0.0.1", port, reconnectStrategy: 50 } });
  sentinel.on("error", () => {});
  await waitFor(`sentinel listening on port ${port}`, async () => {
    await sentinel.connect();
    return true;
  }, { everyMs: 10 });
  const raw = new Map<RedisServer, RawClient>();
  const clientOf = async (node: RedisServer) => {
    let client = raw.get(node);
    if (client === undefined || !client.isReady) {
      client?.destroy();
      client = await node.client();
      raw.set(node, client);
    }
    return client;
  };
  /** Port of the master that the sentinel names now. */
  const namedPort = async () => {
    const reply = await sentinel.sendCommand([
      "SENTINEL",
      "GET-MASTER-ADDR-BY-NAME",
      MASTER_NAME,
    ]) as string[] | null;
    return reply === null ? undefined : Number(reply[1]);
  };
  const byPort = (port: number | undefined) => nodes.find((node) => portOf(node) === port);
  /**
   * Wait until `master` is named by the sentinel and is a master, and every other running node is
   * its replica, in sync, and known to the sentinel as a healthy replica (a candidate for the next
   * failover).
   */
  const settled = async (master: RedisServer) => {
    const replicas = nodes.filter((node) => node !== master && node.running);
    let why = "";
    const t0 = Date.now();
    const not = (reason: string) => {
      if (
        Deno.env.get("ECL_TEST_DEBUG") &&
        reason.replace(/"(last|info|role)[^,]*,/g, "") !==
          why.replace(/"(last|info|role)[^,]*,/g, "")
      ) console.log(Date.now() - t0, reason);
      why = reason;
      return false;
    };
    await waitFor(
      `sentinel naming port ${master.port} as master with ${replicas.length} healthy replicas`,
      async () => {
        const named = await namedPort();
        if (named !== portOf(master)) return not(`the sentinel names port ${named}`);
        const role = await (await clientOf(master)).sendCommand(["ROLE"]) as unknown[];
        if (role[0] !== "master") return not(`port ${master.port} is a ${role[0]}`);
        const known = await sentinel.sendCommand([
          "SENTINEL",
          "REPLICAS",
          MASTER_NAME,
        ]) as (string[] | Record<string, string>)[];
        for (const replica of replicas) {
          const info = await (await clientOf(replica)).sendCommand([
            "INFO",
            "replication",
          ]) as string;
          if (
            !info.includes(`master_port:${master.port}`) || !info.includes("master_link_status:up")
          ) {
            return not(`port ${replica.port} not in sync with port ${master.port}`);
          }
          const entry = known.map((fields) => fieldsOf(fields)).find((fields) =>
            fields.port === String(replica.port)
          );
          // Its flags, not its "master-link-status": the sentinel refreshes that from INFO every
          // 10 s only (every second once the master is down, in time for the election).
          if (entry?.flags !== "slave") {
            return not(`the sentinel sees replica ${replica.port} as ${JSON.stringify(entry)}`);
          }
        }
        return true;
      },
      { timeoutMs: FAILOVER_TIMEOUT_MS },
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${why}; sentinel log:\n${logTail()}`);
    });
  };
  const logTail = () => {
    try {
      return Deno.readTextFileSync(`${dir}/sentinel.log`).trimEnd().split("\n").slice(-60).join(
        "\n",
      );
    } catch {
      return "(none)";
    }
  };
  await settled(first);
  let failovers = 0;
  const timings: { promotionMs: number; rejoinMs: number }[] = [];
  return {
    nodes,
    port,
    /** The proxy in front of the first master ({@link SentinelOptions.proxyFirst}). */
    proxy,
    spec: { sentinel: { name: MASTER_NAME, nodes: [`127.0.0.1:${port}`] } },
    yaml: `redis:\n  sentinel:\n    name: ${MASTER_NAME}\n    nodes: ["127.0.0.1:${port}"]\n`,
    /** The data node the sentinel names as master now. */
    async master(): Promise<RedisServer> {
      const node = byPort(await namedPort());
      if (node === undefined) throw new Error("the sentinel names no master of this setup");
      return node;
    },
    /** The end of the sentinel's log, for failure messages. */
    log: logTail,
    /** Send a command to the sentinel (e.g. `SENTINEL FAILOVER`). */
    command(args: string[]): Promise<unknown> {
      return sentinel.sendCommand(args);
    },
    /** A raw client of `node` (kept, closed by `stop()`). */
    client: clientOf,
    /** How long each failover took: from the kill to the promotion, and then to a new replica. */
    timings,
    /** Failovers done by {@link failover}. */
    get failovers(): number {
      return failovers;
    },
    /**
     * Fail over once: make sure the replica has every write the master confirmed (writes are held
     * meanwhile with `CLIENT PAUSE WRITE`, so commands in flight stay unanswered), SIGKILL the
     * master, wait for the sentinel to promote the replica, and restart the old master as a
     * replica of the new one. Returns the new master.
     */
    async failover(): Promise<RedisServer> {
      const master = byPort(await namedPort())!;
      const replica = nodes.find((node) => node !== master)!;
      const client = await clientOf(master);
      // Replication is asynchronous: a SIGKILLed master loses what its replica has not got (a
      // limit of Redis, documented). Hold writes, let the replica catch up, then kill.
      await client.sendCommand(["CLIENT", "PAUSE", "10000", "WRITE"]);
      await waitForReplica(client, await clientOf(replica), `replica ${replica.port}`);
      raw.get(master)?.destroy();
      raw.delete(master);
      await master.kill();
      const killed = Date.now();
      await waitFor(
        `sentinel promoting port ${replica.port} after port ${master.port} died`,
        async () => await namedPort() === replica.port,
        { timeoutMs: FAILOVER_TIMEOUT_MS },
      );
      const promoted = Date.now();
      await master.restart([...NODE_ARGS, "--replicaof", "127.0.0.1", String(replica.port)]);
      await settled(replica);
      failovers++;
      timings.push({ promotionMs: promoted - killed, rejoinMs: Date.now() - promoted });
      return replica;
    },
    /** Wait until the setup is settled with `master` named (after a test killed or restarted nodes). */
    settled,
    async stop() {
      for (const client of raw.values()) client.destroy();
      sentinel.destroy();
      process.kill("SIGTERM");
      await within(`exit of the sentinel on port ${port}`, process.status);
      proxy?.close();
      for (const node of nodes) await node.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A started {@link startSentinel} setup. */
export type SentinelSetup = Awaited<ReturnType<typeof startSentinel>>;

/**
 * `[name, value, name, value, …]` (a SENTINEL reply) as an object; node-redis 6 may hand it over as
 * an object already.
 */
function fieldsOf(fields: string[] | Record<string, string>): Record<string, string> {
  if (!Array.isArray(fields)) return fields;
  const result: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) result[fields[i]] = fields[i + 1];
  return result;
}

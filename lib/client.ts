/**
 * Building the node-redis client of a {@link RedisConfig}: a plain server, a Sentinel-managed
 * master or a Redis Cluster, with TLS (PEM files read here) and ecl's reconnection policy.
 * `store.ts` sends commands through the one surface, {@link Connection}, that all three share.
 * @module
 */
// deno-lint-ignore no-import-prefix -- see lib/store.ts
import { createClient, createCluster, createSentinel } from "npm:@redis/client@^5";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { RedisConfig, SentinelConfig } from "./redis_config.ts";
import { fileErrorText } from "./_message.ts";
import { ConfigError } from "./errors.ts";
import { backoffMs } from "./_timer.ts";
import { rediscoverSlots } from "./_cluster_slots.ts";

/** How long the client waits for a TCP connection before it counts an attempt as failed. */
const CONNECT_TIMEOUT_MS = 5000;
/** First and largest pause between reconnection attempts. */
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 2000;

/**
 * What ecl uses of a node-redis connection: plain, Sentinel and cluster clients all have it.
 * (Typed here, so that the differently typed clients are used through one surface.)
 */
export interface Connection {
  /** Not on a cluster client: there, open means ready. */
  readonly isReady?: boolean;
  readonly isOpen: boolean;
  on(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
  connect(): Promise<unknown>;
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  mGet(keys: string[]): Promise<(string | null)[]>;
  hGetAll(key: string): Promise<Record<string, string>>;
  scan(
    cursor: string,
    options: { MATCH: string; COUNT: number },
  ): Promise<{ cursor: string; keys: string[] }>;
  close(): Promise<unknown>;
  destroy(): unknown;
}

/** How a client behaves when Redis is away. */
export interface ClientOptions {
  /** Keep reconnecting with capped exponential backoff, or fail at the first refused connection. */
  readonly reconnect: boolean;
  /** Queue commands while disconnected, or fail them at once. */
  readonly offlineQueue: boolean;
}

/** A client and what its topology needs after a failure. */
export interface Client {
  /** The connection (not connected yet). */
  readonly connection: Connection;
  /** Whether it is a Redis Cluster client. */
  readonly cluster: boolean;
  /**
   * Called after a command failed without a reply from Redis: a cluster client re-reads its slot
   * map, so writes follow a replica promoted in a dead master's place. Others do nothing.
   */
  readonly onNodeFailure: () => void;
  /**
   * The error to report for what the client failed with (an "error" event, a failed `connect()`;
   * node-redis emits some as strings). Sentinel: names the master it could not reach.
   */
  readonly explain: (error: unknown) => Error;
  /**
   * Whether a reply ends an outage: a Sentinel client emits no "ready" when it has found a master
   * again. Others do, and report the end of an outage with it.
   */
  readonly replyEndsOutage: boolean;
}

/** An error as it is (or a string node-redis emitted, as an error). */
function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function readPem(file: string | undefined, key: string): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(
      `Cannot read TLS file ${JSON.stringify(file)}: ${fileErrorText(error)}`,
      `redis.tls.${key}`,
      undefined,
      { cause: error },
    );
  }
}

/**
 * Build the client for `config`; nothing is sent until it connects.
 * @throws {ConfigError} when a TLS file cannot be read
 */
export function createRedisClient(config: RedisConfig, options: ClientOptions): Client {
  const tls = config.tls;
  const socket = {
    connectTimeout: CONNECT_TIMEOUT_MS,
    reconnectStrategy: options.reconnect
      ? (retries: number) => backoffMs(retries, RECONNECT_MIN_MS, RECONNECT_MAX_MS)
      : false as const,
    ...(tls === undefined ? {} : {
      tls: true as const,
      // SNI takes host names only; a certificate for an address is still checked.
      servername: isIP(config.host) === 0 ? config.host : undefined,
      ca: readPem(tls.caFile, "ca_file"),
      cert: readPem(tls.certFile, "cert_file"),
      key: readPem(tls.keyFile, "key_file"),
      rejectUnauthorized: tls.rejectUnauthorized,
    }),
  };
  const nodeOptions = {
    disableOfflineQueue: !options.offlineQueue,
    // No CLIENT SETINFO: a minimal ACL user would see it refused in ACL LOG.
    disableClientInfo: true,
    database: config.db,
    username: config.username,
    password: config.password,
  };
  const { sentinel, cluster } = config;
  if (cluster !== undefined) {
    const connection = createCluster({
      rootNodes: cluster.nodes.map((node) => ({ socket: { host: node.host, port: node.port } })),
      // A cluster has database 0 only. Commands for a node that is down fail at once (instead of
      // waiting for it): the failure makes the client re-read the slot map (onNodeFailure), so
      // writes follow a replica promoted in its place.
      defaults: { ...nodeOptions, database: undefined, disableOfflineQueue: true, socket },
    }) as unknown as Connection;
    const rootNode = {
      socket: { ...socket, host: cluster.nodes[0].host, port: cluster.nodes[0].port },
    };
    return {
      connection,
      cluster: true,
      onNodeFailure: () => rediscoverSlots(connection, rootNode),
      explain: asError,
      replyEndsOutage: false,
    };
  }
  if (sentinel !== undefined) {
    return createSentinelClient(sentinel, nodeOptions, socket, options.reconnect);
  }
  const connection = createClient({
    ...nodeOptions,
    socket: { ...socket, host: config.host, port: config.port },
  }) as unknown as Connection;
  return {
    connection,
    cluster: false,
    onNodeFailure: () => {},
    explain: asError,
    replyEndsOutage: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Sentinel: following a failover when the master the sentinels name cannot be reached.
//
// node-redis 5 (`dist/lib/sentinel/index.js`, `RedisSentinelInternal`) creates the master's client
// with our socket options and awaits its `connect()` in `transform()`; with a reconnect strategy
// that retries, a master that the sentinels still name but that cannot be reached (a logger may
// see a master die before its sentinel does) makes that `connect()` wait for ever, and with it
// every command and every later failover (`#reset()` waits for the same `#connectPromise`):
// upstream redis/node-redis#3061, fixed in 6.x (#3331). So the data-node clients never retry
// themselves: the attempt fails, and `#connect()` asks the sentinels again every second until
// they name a master that answers.
// ---------------------------------------------------------------------------------------------

/**
 * What the data-node clients' reconnect strategy fails a connection attempt with. node-redis
 * prints every failure of a Sentinel's node client with `console.log` (stdout: a reader's data)
 * except one with this message, which it takes for "the sentinels name no usable master"; ecl
 * reports the failure in its own warning instead.
 */
const SENTINEL_NO_MASTER = "no valid master node";

/** How node-redis prefixes an error of the master's client (`passthroughClientErrorEvents`). */
const MASTER_CLIENT_ERROR = /^Master Client \((.+?)\): /;

/** The node-redis options of a Sentinel client (see the comment above). */
function sentinelClientOptions(
  sentinel: SentinelConfig,
  nodeOptions: Record<string, unknown>,
  socket: Record<string, unknown>,
  reconnect: boolean,
) {
  return {
    name: sentinel.name,
    sentinelRootNodes: sentinel.nodes.map((node) => ({ host: node.host, port: node.port })),
    // The sentinel client retries; a one-shot command does not ask the sentinels again.
    maxCommandRediscovers: reconnect ? undefined : 0,
    // Failures of the master's client come as "error" too: the outage warning names the master.
    passthroughClientErrorEvents: true,
    nodeClientOptions: {
      ...nodeOptions,
      socket: { ...socket, reconnectStrategy: () => new Error(SENTINEL_NO_MASTER) },
    },
    sentinelClientOptions: {
      socket,
      disableClientInfo: true,
      username: sentinel.username,
      password: sentinel.password,
    },
  };
}

/**
 * A Sentinel client whose errors name the master it could not reach: `master <host:port> named by
 * the sentinels: <why it failed>` (and, when it keeps trying, what it waits for), remembered for a
 * later `connect()` that fails with {@link SENTINEL_NO_MASTER}.
 */
function createSentinelClient(
  sentinel: SentinelConfig,
  nodeOptions: Record<string, unknown>,
  socket: Record<string, unknown>,
  reconnect: boolean,
): Client {
  const waiting = reconnect ? " (waiting for them to name a master that answers)" : "";
  let masterFailure: string | undefined;
  const explain = (thrown: unknown): Error => {
    const error = asError(thrown);
    if (error.message === SENTINEL_NO_MASTER) {
      const reason = masterFailure ?? "the sentinels name no master that is up";
      return new Error(reason + waiting, { cause: error });
    }
    const master = MASTER_CLIENT_ERROR.exec(error.message);
    if (master === null) return error;
    const why = error.cause instanceof Error ? error.cause.message : error.message;
    masterFailure = `master ${master[1]} named by the sentinels: ${why}`;
    return new Error(masterFailure + waiting, { cause: error });
  };
  return {
    connection: createSentinel(
      sentinelClientOptions(sentinel, nodeOptions, socket, reconnect),
    ) as unknown as Connection,
    cluster: false,
    onNodeFailure: () => {},
    explain,
    replyEndsOutage: true,
  };
}

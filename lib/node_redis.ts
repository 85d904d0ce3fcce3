/**
 * node-redis behind a {@link Connection}: a plain server, a Sentinel-managed master or a Redis
 * Cluster, with TLS (the PEM texts that `connection.ts` read), ecl's reconnection policy and an
 * offline queue. Loaded on first use by `connection.ts` (node-redis costs ~0.1 s to load). Its
 * errors leave as {@link ReplyError} and {@link NotSentError}; a cluster client re-reads its slot
 * map after a command failed without a reply (`_cluster_slots.ts`).
 * @module
 */
// Full npm: specifiers (here, in config.ts), so that mod.ts imported by path or URL needs no
// import map; the Node build (npm/) rewrites them to the bare names.
import {
  ClientClosedError,
  ClientOfflineError,
  createClient,
  createCluster,
  createSentinel,
  ErrorReply,
  RESP_TYPES,
  // deno-lint-ignore no-import-prefix
} from "npm:@redis/client@^6";
import { isIP } from "node:net";
import type { RedisConfig, SentinelConfig } from "./redis_config.ts";
import {
  asError,
  CONNECT_TIMEOUT_MS,
  type Connection,
  type ConnectionOptions,
  NotSentError,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
  ReplyError,
  type TlsPems,
} from "./connection.ts";
import { backoffMs } from "./_timer.ts";
import { rediscoverSlots } from "./_cluster_slots.ts";

/**
 * What ecl calls on a node-redis client: plain, Sentinel and cluster clients all have it. (Typed
 * here, so that the differently typed clients are used through one surface.) A cluster client has
 * no `isReady`: there, open means ready.
 */
type NodeClient =
  & Omit<Connection, "isReady" | "explain" | "replyEndsOutage">
  & { readonly isReady?: boolean; withTypeMapping(mapping: unknown): NodeClient };

/**
 * node-redis 6 (unlike 5) builds a hash reply as a plain object, where a field named "__proto__"
 * sets the prototype instead of becoming a field; fields are event IDs (user data). So HGETALL's
 * reply comes as its flat list, and becomes a prototype-less field map here.
 */
function fieldMap(tuples: unknown): Record<string, string> {
  const list = tuples as string[];
  const map: Record<string, string> = Object.create(null);
  for (let i = 0; i + 1 < list.length; i += 2) map[list[i]] = list[i + 1];
  return map;
}

/** node-redis's errors as ecl's: an error reply, or a command that was not sent. */
function translate(error: unknown): unknown {
  if (error instanceof ErrorReply) return new ReplyError(error.message, { cause: error });
  if (error instanceof ClientOfflineError || error instanceof ClientClosedError) {
    return new NotSentError(error.message, { cause: error });
  }
  return error;
}

/** A node-redis client for `config` (not connected yet), with the PEM texts of its `tls`. */
export function nodeRedisConnection(
  config: RedisConfig,
  options: ConnectionOptions,
  pems: TlsPems | undefined,
): Connection {
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
      ca: pems?.ca,
      cert: pems?.cert,
      key: pems?.key,
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
  let client: NodeClient;
  /** Called after a command failed without a reply from Redis. */
  let onNodeFailure = () => {};
  let explain: (error: unknown) => Error = asError;
  if (cluster !== undefined) {
    client = createCluster({
      rootNodes: cluster.nodes.map((node) => ({ socket: { host: node.host, port: node.port } })),
      // A cluster has database 0 only. Commands for a node that is down fail at once (instead of
      // waiting for it): the failure makes the client re-read the slot map (onNodeFailure), so
      // writes follow a replica promoted in its place.
      defaults: { ...nodeOptions, database: undefined, disableOfflineQueue: true, socket },
    }) as unknown as NodeClient;
    const rootNode = {
      socket: { ...socket, host: cluster.nodes[0].host, port: cluster.nodes[0].port },
    };
    onNodeFailure = () => rediscoverSlots(client, rootNode);
  } else if (sentinel === undefined) {
    client = createClient({
      ...nodeOptions,
      socket: { ...socket, host: config.host, port: config.port },
    }) as unknown as NodeClient;
  } else {
    client = createSentinel(
      sentinelClientOptions(sentinel, nodeOptions, socket, options.reconnect),
    ) as unknown as NodeClient;
    explain = sentinelErrors(options.reconnect);
  }
  /** The same client, with hash replies as flat lists (see {@link fieldMap}). */
  const flat = client.withTypeMapping({ [RESP_TYPES.MAP]: Array });
  const failed = (error: unknown): never => {
    const translated = translate(error);
    if (!(translated instanceof ReplyError)) onNodeFailure();
    throw translated;
  };
  return {
    get isReady() {
      return client.isReady;
    },
    get isOpen() {
      return client.isOpen;
    },
    on: (event, listener) => client.on(event, listener),
    off: (event, listener) => client.off(event, listener),
    connect: () => client.connect(),
    evalSha: (sha, options) => client.evalSha(sha, options).catch(failed),
    eval: (script, options) => client.eval(script, options).catch(failed),
    mGet: (keys) => client.mGet(keys).catch(failed),
    hGetAll: (key) => flat.hGetAll(key).then(fieldMap, failed),
    scan: (cursor, options) => client.scan(cursor, options).catch(failed),
    close: () => client.close(),
    destroy: () => client.destroy(),
    explain,
    // A Sentinel client emits no "ready" when it has found a master again.
    replyEndsOutage: sentinel !== undefined && cluster === undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Sentinel: following a failover when the master the sentinels name cannot be reached.
//
// node-redis (`dist/lib/sentinel/index.js`, `RedisSentinelInternal`) creates the master's client
// with our socket options. In 5, `transform()` awaited its `connect()`, and with a reconnect
// strategy that retries, a master that the sentinels still name but that cannot be reached (a
// logger may see a master die before its sentinel does) made every command and every later
// failover wait for ever: upstream redis/node-redis#3061. 6 (#3331) rejects at the first
// connection error, so that no longer hangs (tests/sentinel_test.ts passes with either policy).
// The data-node clients still never retry themselves: a failed attempt goes straight back to
// `#connect()`, which asks the sentinels again every second until they name a master that
// answers, instead of the client retrying a dead master in the background (the "cannot connect"
// test followed the failover in ~1 s this way, ~3 s with retrying clients, in one run).
// ---------------------------------------------------------------------------------------------

/**
 * What the data-node clients' reconnect strategy fails a connection attempt with: node-redis's own
 * message for "the sentinels name no usable master" (its `analyze()` throws it too), which
 * {@link sentinelErrors} turns into the failure of the master last named. (node-redis 5 printed
 * every other failure with `console.log`, on a reader's stdout; 6 does not.)
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
 * How a Sentinel client's errors are reported: `master <host:port> named by the sentinels: <why it
 * failed>` (and, when it keeps trying, what it waits for), remembered for a later `connect()`
 * that fails with {@link SENTINEL_NO_MASTER}.
 */
function sentinelErrors(reconnect: boolean): (error: unknown) => Error {
  const waiting = reconnect ? " (waiting for them to name a master that answers)" : "";
  let masterFailure: string | undefined;
  return (thrown: unknown): Error => {
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
}

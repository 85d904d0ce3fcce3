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
  // deno-lint-ignore no-import-prefix
} from "npm:@redis/client@^5";
import { isIP } from "node:net";
import type { RedisConfig } from "./redis_config.ts";
import {
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
type NodeClient = Omit<Connection, "isReady"> & { readonly isReady?: boolean };

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
    client = createSentinel({
      name: sentinel.name,
      sentinelRootNodes: sentinel.nodes.map((node) => ({ host: node.host, port: node.port })),
      nodeClientOptions: { ...nodeOptions, socket },
      sentinelClientOptions: {
        socket,
        disableClientInfo: true,
        username: sentinel.username,
        password: sentinel.password,
      },
    }) as unknown as NodeClient;
  }
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
    scan: (cursor, options) => client.scan(cursor, options).catch(failed),
    close: () => client.close(),
    destroy: () => client.destroy(),
  };
}

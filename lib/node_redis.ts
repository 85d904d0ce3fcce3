/**
 * node-redis behind a {@link Connection}: plain, TLS, Sentinel and Cluster, with reconnection and
 * an offline queue. Loaded on first use (lib/connection.ts). Its errors are reported as
 * {@link ReplyError} and {@link NotSentError}.
 * @module
 */
import {
  ClientClosedError,
  ClientOfflineError,
  createClient,
  createCluster,
  createSentinel,
  ErrorReply,
} from "@redis/client";
import { isIP } from "node:net";
import type { RedisConfig } from "./config.ts";
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

/** The methods ecl calls on a node-redis client, cluster client or Sentinel client. */
interface NodeClient {
  readonly isReady?: boolean;
  readonly isOpen: boolean;
  on(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
  connect(): Promise<unknown>;
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  mGet(keys: string[]): Promise<(string | null)[]>;
  scan(
    cursor: string,
    options: { MATCH: string; COUNT: number },
  ): Promise<{ cursor: string; keys: string[] }>;
  close(): Promise<unknown>;
  destroy(): unknown;
}

/** node-redis's errors as ecl's: an error reply, or a command that was not sent. */
function translate(error: unknown): never {
  if (error instanceof ErrorReply) throw new ReplyError(error.message, { cause: error });
  if (error instanceof ClientOfflineError || error instanceof ClientClosedError) {
    throw new NotSentError(error.message, { cause: error });
  }
  throw error;
}

/** A node-redis client for `config`, with the PEM texts of its `tls` section. */
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
  const sentinel = config.sentinel;
  const cluster = config.cluster;
  /** Cluster only: options of the first root node, to re-read the slot map from. */
  const rootNode = cluster === undefined
    ? undefined
    : { socket: { ...socket, host: cluster.nodes[0].host, port: cluster.nodes[0].port } };
  const client = (cluster !== undefined
    ? createCluster({
      rootNodes: cluster.nodes.map((node) => ({ socket: { host: node.host, port: node.port } })),
      // A cluster has database 0 only. Commands for a node that is down fail at once (instead of
      // waiting for it): the failure makes the client re-read the slot map (see rediscover), so
      // writes follow a replica promoted in its place.
      defaults: { ...nodeOptions, database: undefined, disableOfflineQueue: true, socket },
    })
    : sentinel === undefined
    ? createClient({
      ...nodeOptions,
      socket: { ...socket, host: config.host, port: config.port },
    })
    : createSentinel({
      name: sentinel.name,
      sentinelRootNodes: sentinel.nodes.map((node) => ({ host: node.host, port: node.port })),
      nodeClientOptions: { ...nodeOptions, socket },
      sentinelClientOptions: {
        socket,
        disableClientInfo: true,
        username: sentinel.username,
        password: sentinel.password,
      },
    })) as unknown as NodeClient;
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
    evalSha: (sha, options) => client.evalSha(sha, options).catch(translate),
    eval: (script, options) => client.eval(script, options).catch(translate),
    mGet: (keys) => client.mGet(keys).catch(translate),
    scan: (cursor, options) => client.scan(cursor, options).catch(translate),
    close: () => client.close(),
    destroy: () => client.destroy(),
    /**
     * Cluster only: re-read the slot map after a node failed. node-redis does so by itself only on
     * MOVED/ASK replies, which a dead master never sends; until then its slots' commands would fail.
     */
    rediscover: rootNode === undefined ? undefined : () => {
      const slots = (client as unknown as {
        _slots?: { rediscover(startWith: { options: unknown }): Promise<void> };
      })._slots;
      // Starts with one root node; node-redis falls back to every root node in turn.
      slots?.rediscover({ options: rootNode }).catch(() => {
        // Still down: the next failure tries again.
      });
    },
  };
}

/**
 * The connection the store's commands are written against, and the one place that picks the client
 * behind it. In Deno, ecl's small RESP client (`resp.ts`) for a plain server (TCP, or TLS with
 * verification): it loads faster than node-redis, and it first fixed a lost reply under Deno
 * (see {@link openConnection}). Else node-redis (`node_redis.ts`): Sentinel, Cluster, TLS without verification, and Node (the
 * npm build, which never loads `resp.ts`). Each is loaded on first use. Both report errors with the
 * classes below, so the store handles them once. The TLS files of `redis.tls` are read here, for
 * either client.
 * @module
 */
import type { RedisConfig } from "./redis_config.ts";
import { fileErrorText } from "./_message.ts";
import { readTextFileSync } from "./_runtime.ts";
import { ConfigError } from "./errors.ts";

/** What the store uses of a Redis client. */
export interface Connection {
  /** Whether commands can be sent now; `undefined` on a cluster client (there, open means ready). */
  readonly isReady: boolean | undefined;
  /** Whether a connection is open or being (re-)established. */
  readonly isOpen: boolean;
  /** `"error"` (an `Error`: the connection failed or broke) and `"ready"` (connected). */
  on(event: "error" | "ready", listener: (...args: never[]) => void): unknown;
  /** Remove a listener added with {@link Connection.on}. */
  off(event: "error" | "ready", listener: (...args: never[]) => void): unknown;
  /** Connect, with authentication and database selection. */
  connect(): Promise<unknown>;
  /** `EVALSHA`. */
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** `EVAL`. */
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** `MGET`. */
  mGet(keys: string[]): Promise<(string | null)[]>;
  /** `HGETALL`: field → value (`{}` for a missing key). */
  hGetAll(key: string): Promise<Record<string, string>>;
  /** One `SCAN` step. */
  scan(
    cursor: string,
    options: { MATCH: string; COUNT: number },
  ): Promise<{ cursor: string; keys: string[] }>;
  /** Close after the replies to the commands sent. */
  close(): Promise<unknown>;
  /** Drop the connection at once; pending commands fail. */
  destroy(): unknown;
  /**
   * The error to report for what the client failed with (an `"error"` event, a failed
   * `connect()`; node-redis emits some as strings). Sentinel: names the master it could not reach.
   */
  explain(error: unknown): Error;
  /**
   * Whether a reply ends an outage: a Sentinel client emits no `"ready"` when it has found a master
   * again. Others do, and report the end of an outage with it.
   */
  readonly replyEndsOutage: boolean;
}

/** An error as it is (or a string a client emitted, as an error). */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** How a store uses its connection (see the store's options). */
export interface ConnectionOptions {
  /** Keep reconnecting with backoff, or fail at the first refused connection. */
  readonly reconnect: boolean;
  /** Queue commands while disconnected, or fail them at once. */
  readonly offlineQueue: boolean;
}

/** The PEM texts of `redis.tls`, read when the store is made. */
export interface TlsPems {
  readonly ca: string | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
}

/** Makes the connection for a Redis config of a plain server (see {@link openConnection}). */
export type ConnectionFactory = (
  config: RedisConfig,
  options: ConnectionOptions,
  tls: TlsPems | undefined,
) => Connection;

/** Redis answered a command with an error reply; the message is Redis's own. */
export class ReplyError extends Error {
  override name = "ReplyError";
}

/** A command was not sent: the connection was closed or could not be established. */
export class NotSentError extends Error {
  override name = "NotSentError";
}

/** How long a client waits for a TCP connection before it counts an attempt as failed. */
export const CONNECT_TIMEOUT_MS = 5000;
/** First pause between reconnection attempts (both clients). */
export const RECONNECT_MIN_MS = 100;
/** Largest pause between reconnection attempts (both clients). */
export const RECONNECT_MAX_MS = 2000;

let clientFactory: ConnectionFactory | undefined;

/**
 * From now on, stores of this process connect to a plain server through `factory` (tests compare
 * the two clients with it); `undefined`: the client {@link openConnection} picks.
 */
export function setConnectionFactory(factory: ConnectionFactory | undefined): void {
  clientFactory = factory;
}

/**
 * The connection for a store. A plain server (one host, TCP or TLS with verification) in Deno:
 * ecl's RESP client (node-redis 5.12 under Deno could be handed a command between its socket's
 * `end` and `close`, on a peer that closes the connection, and write it to the destroyed socket:
 * the command waited for ever and later replies went one command late; @redis/client 6, which ecl
 * uses, no longer writes to a socket it gave up, redis/node-redis#3209; tests/peer_close_test.ts
 * covers both clients). Else node-redis: Sentinel and Cluster need it, Deno's TLS cannot skip
 * verification for one connection (node-redis can), and under Node it is the only client.
 * @throws {ConfigError} when a TLS file cannot be read
 */
export function openConnection(config: RedisConfig, options: ConnectionOptions): Connection {
  const tls = config.tls === undefined ? undefined : {
    ca: readPem(config.tls.caFile, "ca_file"),
    cert: readPem(config.tls.certFile, "cert_file"),
    key: readPem(config.tls.keyFile, "key_file"),
  };
  const plain = config.sentinel === undefined && config.cluster === undefined &&
    config.tls?.rejectUnauthorized !== false;
  if (plain && clientFactory !== undefined) return clientFactory(config, options, tls);
  if (plain && "Deno" in globalThis) {
    return new LazyConnection(async () => {
      // The npm build compiles resp.node.ts in its place (npm/tsconfig.json, moduleSuffixes).
      const { respConnection } = await import("./resp.ts");
      return respConnection(config, options, tls);
    });
  }
  return new LazyConnection(async () => {
    const { nodeRedisConnection } = await import("./node_redis.ts");
    return nodeRedisConnection(config, options, tls);
  });
}

function readPem(file: string | undefined, key: string): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readTextFileSync(file);
  } catch (error) {
    throw new ConfigError(
      `Cannot read TLS file ${JSON.stringify(file)}: ${fileErrorText(error)}`,
      `redis.tls.${key}`,
      undefined,
      { cause: error },
    );
  }
}

type Listener = (...args: never[]) => void;

/**
 * A connection whose client is loaded (and made) on first use: node-redis costs ~0.1 s to load, and
 * the library loads only the client it uses.
 */
class LazyConnection implements Connection {
  readonly #load: () => Promise<Connection>;
  #loading: Promise<Connection> | undefined;
  #connection: Connection | undefined;
  readonly #listeners: ["error" | "ready", Listener][] = [];

  constructor(load: () => Promise<Connection>) {
    this.#load = load;
  }

  get isReady(): boolean | undefined {
    return this.#connection === undefined ? false : this.#connection.isReady;
  }

  get isOpen(): boolean {
    return this.#connection?.isOpen ?? false;
  }

  get replyEndsOutage(): boolean {
    return this.#connection?.replyEndsOutage ?? false;
  }

  explain(error: unknown): Error {
    return this.#connection?.explain(error) ?? asError(error);
  }

  #get(): Promise<Connection> {
    this.#loading ??= this.#load().then((connection) => {
      for (const [event, listener] of this.#listeners) connection.on(event, listener);
      this.#connection = connection;
      return connection;
    });
    return this.#loading;
  }

  on(event: "error" | "ready", listener: Listener): unknown {
    if (this.#connection !== undefined) return this.#connection.on(event, listener);
    this.#listeners.push([event, listener]);
  }

  off(event: "error" | "ready", listener: Listener): unknown {
    if (this.#connection !== undefined) return this.#connection.off(event, listener);
    const index = this.#listeners.findIndex(([e, l]) => e === event && l === listener);
    if (index >= 0) this.#listeners.splice(index, 1);
  }

  async connect(): Promise<unknown> {
    return await (await this.#get()).connect();
  }

  async evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown> {
    return await (await this.#get()).evalSha(sha, options);
  }

  async eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown> {
    return await (await this.#get()).eval(script, options);
  }

  async mGet(keys: string[]): Promise<(string | null)[]> {
    return await (await this.#get()).mGet(keys);
  }

  async hGetAll(key: string): Promise<Record<string, string>> {
    return await (await this.#get()).hGetAll(key);
  }

  async scan(
    cursor: string,
    options: { MATCH: string; COUNT: number },
  ): Promise<{ cursor: string; keys: string[] }> {
    return await (await this.#get()).scan(cursor, options);
  }

  async close(): Promise<unknown> {
    return await this.#connection?.close();
  }

  destroy(): unknown {
    if (this.#connection !== undefined) return this.#connection.destroy();
    // Still loading (a connect() under way): drop the client as soon as it exists.
    this.#loading?.then((connection) => connection.destroy(), () => {});
  }
}

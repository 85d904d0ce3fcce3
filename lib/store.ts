/**
 * The one Redis connection of a logger, master or reader, and every command ecl sends. Nothing
 * else in ecl talks to Redis or builds keys.
 * @module
 */
import { createHash } from "node:crypto";
import type { GroupConfig, IntervalConfig, RedisConfig } from "./config.ts";
import { redisAddress } from "./config.ts";
import { type Connection, NotSentError, openConnection, ReplyError } from "./connection.ts";
import { RedisError } from "./errors.ts";
import {
  CUR,
  eventScanPattern,
  type KeyLayout,
  LAST,
  MASTER_LEASE_KEY,
  type Slot,
  slotPrefix,
  timestampKey,
  writerKey,
} from "./keys.ts";
import {
  FLUSH_SCRIPT,
  type FlushStatus,
  LEASE_SCRIPT,
  RELEASE_SCRIPT,
  ROTATE_SCRIPT,
  SCAN_SCRIPT,
} from "./scripts.ts";

/** Keys per `SCAN` round trip when listing events. */
const SCAN_COUNT = 1000;
/** Keys per `MGET` when reading counts. */
const MGET_CHUNK = 10000;

/** How long Redis remembers a writer's last batch number after its last write. */
const WRITER_TTL_MS = 3_600_000;

/** One batch for {@link Store.flush}: counts of one period of one (group, interval). */
export interface FlushRequest {
  /** Group name. */
  readonly group: string;
  /** The interval. */
  readonly interval: IntervalConfig;
  /** Start of the period the counts were logged in (UNIX seconds). */
  readonly period: number;
  /** Event ID → count. */
  readonly counts: ReadonlyMap<string, number>;
  /** The writer's clock (UNIX seconds). */
  readonly nowSeconds: number;
  /** How long counts of a period the master has not opened yet wait for it (seconds). */
  readonly graceSeconds: number;
  /** ID of the writer (one per logger instance). */
  readonly writer: string;
  /** The writer's number for this batch; increases with every new batch. */
  readonly seq: number;
}

/** What {@link Store.flush} did. */
export interface FlushResult {
  /** Where the counts went, or why they did not. */
  readonly status: FlushStatus;
  /** Events whose counter holds a value that is not an integer (or would overflow): not added. */
  readonly rejected: readonly string[];
}

/** Options of a {@link Store}. */
export interface StoreOptions {
  /**
   * Keep reconnecting with capped exponential backoff (loggers, masters), or fail at the first
   * refused connection (one-shot CLI commands).
   * @default true
   */
  reconnect?: boolean;
  /**
   * Queue commands while disconnected and send them on reconnection (loggers: their flushes carry
   * their period), or fail them at once (the master: it recomputes the boundary when it retries).
   * @default true
   */
  offlineQueue?: boolean;
  /** Called once per outage with a message that never contains a password. */
  onWarning?: (message: string) => void;
  /** Appended to the outage warning, e.g. what happens to data meanwhile. */
  outageNote?: string;
  /** Called when a connection is (re-)established after an outage. */
  onReconnect?: (message: string) => void;
}

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

const FLUSH_SHA = sha1(FLUSH_SCRIPT);
const ROTATE_SHA = sha1(ROTATE_SCRIPT);
const LEASE_SHA = sha1(LEASE_SCRIPT);
const RELEASE_SHA = sha1(RELEASE_SCRIPT);
const SCAN_SHA = sha1(SCAN_SCRIPT);

/** A Redis connection with ecl's commands. Connects on first use; `close()` releases it. */
export class Store {
  readonly #config: RedisConfig;
  readonly #options: StoreOptions;
  readonly #client: Connection;
  /** Key layout: `cluster` (hash-tagged) for a Redis Cluster, else the original's `plain`. */
  readonly layout: KeyLayout;
  #connecting: Promise<void> | undefined;
  #outage = false;
  #closed = false;
  /** `ready()` calls waiting for their first attempt; they report a failure themselves. */
  #readyWaiters = 0;

  /** Create a store; nothing is sent until the first command or {@link Store.connect}. */
  constructor(config: RedisConfig, options: StoreOptions = {}) {
    this.#config = config;
    this.#options = options;
    this.layout = config.cluster === undefined ? "plain" : "cluster";
    this.#client = openConnection(config, {
      reconnect: options.reconnect ?? true,
      offlineQueue: options.offlineQueue ?? true,
    });
    this.#client.on("error", (error: Error) => this.#onError(error));
    this.#client.on("ready", () => {
      if (this.#outage) {
        this.#outage = false;
        this.#options.onReconnect?.(`Reconnected to Redis at ${this.address}`);
      }
    });
  }

  /** Address of the server, for messages (no password). */
  get address(): string {
    return redisAddress(this.#config);
  }

  #onError(error: Error): void {
    if (this.#outage || this.#closed) return;
    this.#outage = true;
    if (this.#readyWaiters > 0) return;
    const note = this.#options.outageNote === undefined ? "" : `; ${this.#options.outageNote}`;
    this.#options.onWarning?.(`Cannot reach Redis at ${this.address}: ${error.message}${note}`);
  }

  /**
   * Connect (once; later calls share the attempt).
   *
   * @throws {RedisError} when the connection fails and the store does not reconnect
   */
  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(new RedisError("Cannot use a closed Redis connection"));
    this.#connecting ??= this.#client.connect().then(
      () => undefined,
      (error: Error) => {
        this.#connecting = undefined;
        throw new RedisError(`Cannot connect to Redis at ${this.address}: ${error.message}`, {
          cause: error,
        });
      },
    );
    return this.#connecting;
  }

  /**
   * Connect now, or wait for the connection under way, and report the outcome of the next attempt.
   *
   * @throws {RedisError} when that attempt fails (a reconnecting store keeps trying)
   */
  ready(): Promise<void> {
    if (this.#isReady()) return Promise.resolve();
    const connecting = this.connect();
    this.#readyWaiters++;
    return new Promise<void>((resolve, reject) => {
      const settle = (error?: unknown) => {
        this.#client.off("ready", onReady);
        this.#client.off("error", onError);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onReady = () => settle();
      const onError = (error: Error) =>
        settle(
          new RedisError(`Cannot connect to Redis at ${this.address}: ${error.message}`, {
            cause: error,
          }),
        );
      this.#client.on("ready", onReady);
      this.#client.on("error", onError);
      connecting.then(() => {
        if (this.#isReady()) settle();
        // Connected once, broken since, and not reconnecting: no event will come.
        else if (!this.#client.isOpen) {
          settle(
            new RedisError(`Cannot connect to Redis at ${this.address}: the connection is closed`),
          );
        }
      }, settle);
    }).finally(() => this.#readyWaiters--);
  }

  #isReady(): boolean {
    return this.#client.isReady ?? this.#client.isOpen;
  }

  async #eval(sha: string, script: string, keys: string[], args: string[]): Promise<unknown> {
    await this.connect();
    try {
      return await this.#client.evalSha(sha, { keys, arguments: args });
    } catch (error) {
      if (!String((error as Error).message).startsWith("NOSCRIPT")) {
        // Cluster: a node failed; re-read the slot map.
        if (!(error instanceof ReplyError)) this.#client.rediscover?.();
        throw error;
      }
      return await this.#client.eval(script, { keys, arguments: args });
    }
  }

  /**
   * Add the counts of one period to (group, interval) in one atomic step, exactly once per
   * (writer, seq). Counts of the current period go to `cur`, counts of the period just rotated go
   * to `last`.
   *
   * @throws {RedisError} with `outcomeUnknown` set when the connection broke after sending: resend
   * the same batch with the same `seq`, and Redis adds it at most once
   */
  async flush(request: FlushRequest): Promise<FlushResult> {
    const { group, interval } = request;
    const args = [
      String(interval.seconds),
      String(request.period),
      String(request.nowSeconds),
      String(request.graceSeconds),
      slotPrefix(group, interval.name, CUR, this.layout),
      slotPrefix(group, interval.name, LAST, this.layout),
      String(request.seq),
      String(WRITER_TTL_MS),
    ];
    for (const [event, count] of request.counts) args.push(event, String(count));
    const keys = [
      timestampKey(group, interval.name, CUR, this.layout),
      timestampKey(group, interval.name, LAST, this.layout),
      writerKey(group, interval.name, request.writer, this.layout),
    ];
    let reply: unknown;
    try {
      reply = await this.#eval(FLUSH_SHA, FLUSH_SCRIPT, keys, args);
    } catch (error) {
      throw this.#wrap("write counts of", group, interval.name, error);
    }
    const [status, ...rejected] = reply as [number, ...string[]];
    return { status: Number(status) as FlushStatus, rejected };
  }

  /**
   * Rotate (group, interval) at `boundary` (seconds), unless that boundary was rotated already.
   *
   * @returns the number of events rotated, or -1 when another master (or an earlier run) did it
   */
  async rotate(group: GroupConfig, interval: IntervalConfig, boundary: number): Promise<number> {
    const name = interval.name;
    const args = [
      String(boundary),
      String(interval.seconds),
      slotPrefix(group.name, name, CUR, this.layout),
      slotPrefix(group.name, name, LAST, this.layout),
      eventScanPattern(group.name, name, CUR, this.layout),
      eventScanPattern(group.name, name, LAST, this.layout),
      group.autoDeclareEvents ? "1" : "0",
      ...group.events,
    ];
    const keys = [
      timestampKey(group.name, name, CUR, this.layout),
      timestampKey(group.name, name, LAST, this.layout),
    ];
    try {
      return Number(await this.#eval(ROTATE_SHA, ROTATE_SCRIPT, keys, args));
    } catch (error) {
      throw this.#wrap("rotate", group.name, name, error);
    }
  }

  /**
   * Take the master lease for `ttlMs`, or extend it when `holder` has it already.
   * @returns whether `holder` holds the lease now
   */
  async holdLease(holder: string, ttlMs: number): Promise<boolean> {
    try {
      const reply = await this.#eval(LEASE_SHA, LEASE_SCRIPT, [MASTER_LEASE_KEY], [
        holder,
        String(ttlMs),
      ]);
      return Number(reply) === 1;
    } catch (error) {
      throw new RedisError(
        `Cannot renew the master lease in Redis at ${this.address}: ${errorText(error)}`,
        { cause: error, refused: error instanceof ReplyError },
      );
    }
  }

  /** Give the master lease up if `holder` has it. */
  async releaseLease(holder: string): Promise<void> {
    try {
      await this.#eval(RELEASE_SHA, RELEASE_SCRIPT, [MASTER_LEASE_KEY], [holder]);
    } catch (error) {
      throw new RedisError(
        `Cannot release the master lease in Redis at ${this.address}: ${errorText(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  /** ID of the master holding the lease, or `undefined` when none does. */
  async leaseHolder(): Promise<string | undefined> {
    const [holder] = await this.getValues([MASTER_LEASE_KEY]);
    return holder ?? undefined;
  }

  /** Values of `keys` (`null` for a missing key), fetched with as few `MGET`s as possible. */
  async getValues(keys: readonly string[]): Promise<(string | null)[]> {
    // Reads fail during an outage instead of waiting for it to end.
    await this.ready();
    const values: (string | null)[] = [];
    try {
      for (let start = 0; start < keys.length; start += MGET_CHUNK) {
        const chunk = keys.slice(start, start + MGET_CHUNK);
        values.push(...await this.#client.mGet(chunk));
      }
    } catch (error) {
      throw new RedisError(`Cannot read from Redis at ${this.address}: ${errorText(error)}`, {
        cause: error,
      });
    }
    return values;
  }

  /** Event IDs (not reserved ones) that have a key in `slot` of (group, interval). */
  async scanEvents(group: string, interval: string, slot: Slot): Promise<string[]> {
    await this.ready();
    const prefixLength = slotPrefix(group, interval, slot, this.layout).length;
    const events = new Set<string>();
    if (this.layout === "cluster") {
      // The keys of one (group, interval) are all on the node of its hash slot: scan there.
      try {
        const keys = await this.#eval(
          SCAN_SHA,
          SCAN_SCRIPT,
          [timestampKey(group, interval, CUR, this.layout)],
          [eventScanPattern(group, interval, slot, this.layout), String(SCAN_COUNT)],
        ) as string[];
        for (const key of keys) events.add(key.slice(prefixLength));
      } catch (error) {
        throw this.#wrap("list the events of", group, interval, error);
      }
      return [...events];
    }
    try {
      let cursor = "0";
      do {
        const reply = await this.#client.scan(cursor, {
          MATCH: eventScanPattern(group, interval, slot, this.layout),
          COUNT: SCAN_COUNT,
        });
        cursor = String(reply.cursor);
        for (const key of reply.keys) events.add(key.slice(prefixLength));
      } while (cursor !== "0");
    } catch (error) {
      throw new RedisError(`Cannot list keys in Redis at ${this.address}: ${errorText(error)}`, {
        cause: error,
      });
    }
    return [...events];
  }

  #wrap(action: string, group: string, interval: string, error: unknown): RedisError {
    return new RedisError(
      `Cannot ${action} ${group}:${interval} in Redis at ${this.address}: ${errorText(error)}`,
      {
        cause: error,
        outcomeUnknown: !wasNotRun(error),
        refused: error instanceof ReplyError,
      },
    );
  }

  /**
   * Close the connection; commands already sent are answered first, unless `force` is set, which
   * drops the connection at once (pending commands fail).
   */
  async close(force = false): Promise<void> {
    if (this.#closed && !force) return;
    this.#closed = true;
    if (this.#client.isOpen && !force) {
      try {
        await this.#client.close();
      } catch {
        this.#client.destroy();
      }
    } else {
      // Stops a reconnection loop that never succeeded.
      try {
        this.#client.destroy();
      } catch {
        // Not open: nothing to release.
      }
    }
  }
}

/**
 * Whether a failed command certainly did not run: Redis answered with an error, or the command
 * was never sent. Otherwise the connection broke after sending it and it may have run.
 */
function wasNotRun(error: unknown): boolean {
  return error instanceof ReplyError || error instanceof NotSentError ||
    error instanceof RedisError;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

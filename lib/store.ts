/**
 * The one Redis connection of a logger, master or reader, and every command ecl sends through it:
 * batches, rotations and reads as each group's layout (`layouts/`) shapes them, and the master
 * lease. Every failure leaves here as one kind of {@link RedisError}, worded in one place. The
 * client behind it is picked by `connection.ts`.
 * @module
 */
import type { GroupConfig, IntervalConfig } from "./config.ts";
import { redisAddress, type RedisConfig } from "./redis_config.ts";
import { type Connection, NotSentError, openConnection, ReplyError } from "./connection.ts";
import { RedisError } from "./errors.ts";
import { MASTER_LEASE_KEY, type Slot } from "./keys.ts";
import type {
  Commands,
  FlushRequest,
  FlushResult,
  HistoryPeriod,
  Layout,
  PeriodValues,
} from "./layouts/layout.ts";
import { PeriodsLayout } from "./layouts/periods.ts";
import { PythonLayout } from "./layouts/python.ts";
import { TIME_SCRIPT } from "./layouts/periods_scripts.ts";
import { LEASE_SCRIPT, RELEASE_SCRIPT } from "./scripts.ts";

export type { FlushRequest, FlushResult, HistoryPeriod, PeriodValues } from "./layouts/layout.ts";

const PYTHON = new PythonLayout();
const PERIODS = new PeriodsLayout();

/** Keys per `SCAN` round trip when listing keys. */
const SCAN_COUNT = 1000;
/** Keys per `MGET` when reading counts. */
const MGET_CHUNK = 10000;

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
  /** Called once, when the first connection is established (start-up checks). */
  onConnect?: () => void;
}

/** The SHA-1 of `text` in hex, as `EVALSHA` names a script (Web Crypto: no Node module to load). */
async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A Redis connection with ecl's commands. Connects on first use; `close()` releases it. */
export class Store {
  readonly #config: RedisConfig;
  readonly #options: StoreOptions;
  readonly #connection: Connection;
  /** Script text → its SHA-1, for `EVALSHA` (computed at the script's first use). */
  readonly #shas = new Map<string, Promise<string>>();
  /** What layouts send through. */
  readonly #commands: Commands;
  #connecting: Promise<void> | undefined;
  #outage = false;
  #closed = false;
  #connectedOnce = false;
  /** `ready()` calls waiting for their first attempt; they report a failure themselves. */
  #readyWaiters = 0;

  /** Create a store; nothing is sent until the first command or {@link Store.connect}. */
  constructor(config: RedisConfig, options: StoreOptions = {}) {
    this.#config = config;
    this.#options = options;
    this.#connection = openConnection(config, {
      reconnect: options.reconnect ?? true,
      offlineQueue: options.offlineQueue ?? true,
    });
    this.#commands = {
      run: (script, keys, args) => this.#run(script, keys, args),
      getValues: (keys) => this.#getValues(keys),
      scan: (pattern) => this.#scan(pattern),
      hGetAll: async (key) => {
        await this.connect();
        return await this.#connection.hGetAll(key);
      },
      cluster: config.cluster !== undefined,
    };
    this.#connection.on(
      "error",
      (error: unknown) => this.#onError(this.#connection.explain(error)),
    );
    this.#connection.on("ready", () => this.#onReady());
  }

  /** Address of the server, for messages (no password). */
  get address(): string {
    return redisAddress(this.#config);
  }

  /** The layout that `group`'s counts have in Redis (`layout:` in its config). */
  layoutOf(group: GroupConfig): Layout {
    return group.layout === "periods" ? PERIODS : PYTHON;
  }

  #onReady(): void {
    this.#connected();
    if (this.#outage) {
      this.#outage = false;
      this.#options.onReconnect?.(`Reconnected to Redis at ${this.address}`);
    }
  }

  /** The first connection is up: call `onConnect` (once). */
  #connected(): void {
    if (this.#connectedOnce || this.#closed) return;
    this.#connectedOnce = true;
    this.#options.onConnect?.();
  }

  #onError(error: Error): void {
    if (this.#outage || this.#closed) return;
    this.#outage = true;
    if (this.#readyWaiters > 0) return;
    const note = this.#options.outageNote === undefined ? "" : `; ${this.#options.outageNote}`;
    this.#options.onWarning?.(`Cannot reach Redis at ${this.address}: ${error.message}${note}`);
  }

  /**
   * The one wording of every failure: `Cannot <action> Redis at <address>: <reason>`. A command
   * whose reply was lost (`sent` and neither refused nor certainly unsent) has `outcomeUnknown`.
   */
  #error(action: string, error: unknown, sent = true): RedisError {
    return new RedisError(`Cannot ${action} Redis at ${this.address}: ${errorText(error)}`, {
      cause: error,
      outcomeUnknown: sent && !wasNotRun(error),
      refused: error instanceof ReplyError,
    });
  }

  /** Run `command`, wording its failure as `Cannot <action> Redis at …`. */
  async #send<T>(action: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw this.#error(action, error);
    }
  }

  /**
   * Connect (once; later calls share the attempt).
   *
   * @throws {RedisError} when the connection fails and the store does not reconnect
   */
  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(new RedisError("Cannot use a closed Redis connection"));
    this.#connecting ??= this.#connection.connect().then(
      () => this.#connected(),
      (error: Error) => {
        this.#connecting = undefined;
        throw this.#error("connect to", this.#connection.explain(error), false);
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
        this.#connection.off("ready", onReady);
        this.#connection.off("error", onError);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onReady = () => settle();
      const onError = (error: unknown) =>
        settle(this.#error("connect to", this.#connection.explain(error), false));
      this.#connection.on("ready", onReady);
      this.#connection.on("error", onError);
      connecting.then(() => {
        if (this.#isReady()) settle();
        // Connected once, broken since, and not reconnecting: no event will come.
        else if (!this.#connection.isOpen) {
          settle(this.#error("connect to", new Error("the connection is closed"), false));
        }
      }, settle);
    }).finally(() => this.#readyWaiters--);
  }

  #isReady(): boolean {
    return this.#connection.isReady ?? this.#connection.isOpen;
  }

  async #run(script: string, keys: string[], args: string[]): Promise<unknown> {
    let sha = this.#shas.get(script);
    if (sha === undefined) {
      sha = sha1(script);
      this.#shas.set(script, sha);
    }
    await this.connect();
    let reply: unknown;
    try {
      // Calls for one script resume in the order they were made: a writer's batches keep theirs.
      reply = await this.#connection.evalSha(await sha, { keys, arguments: args });
    } catch (error) {
      if (!String((error as Error).message).startsWith("NOSCRIPT")) throw error;
      reply = await this.#connection.eval(script, { keys, arguments: args });
    }
    if (this.#connection.replyEndsOutage) this.#onReady();
    return reply;
  }

  async #getValues(keys: readonly string[]): Promise<(string | null)[]> {
    const values: (string | null)[] = [];
    for (let start = 0; start < keys.length; start += MGET_CHUNK) {
      values.push(...await this.#connection.mGet(keys.slice(start, start + MGET_CHUNK)));
    }
    return values;
  }

  async #scan(pattern: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const reply = await this.#connection.scan(cursor, { MATCH: pattern, COUNT: SCAN_COUNT });
      cursor = String(reply.cursor);
      keys.push(...reply.keys);
    } while (cursor !== "0");
    return keys;
  }

  /**
   * Add the counts of one period to (group, interval) in one atomic step, exactly once per
   * (writer, seq). Counts of the current period go to `cur`, counts of the period just rotated go
   * to `last`.
   *
   * @throws {RedisError} with `outcomeUnknown` set when the connection broke after sending: resend
   * the same batch with the same `seq`, and Redis adds it at most once
   */
  flush(request: FlushRequest): Promise<FlushResult> {
    const { group, interval } = request;
    return this.#send(
      `write counts of ${group.name}:${interval.name} in`,
      () => this.layoutOf(group).write(this.#commands, request),
    );
  }

  /**
   * Release `writer`'s records of its last batch numbers in `group` (its writer keys), once every
   * batch up to `lastSeq` is settled and no later one will come; see {@link Layout.releaseWriter}.
   * @returns whether they are gone (`false`: the ACL does not allow it; they expire with their TTL)
   */
  releaseWriter(group: GroupConfig, writer: string, lastSeq: number): Promise<boolean> {
    return this.#send(
      `release the writer keys of ${group.name} in`,
      () => this.layoutOf(group).releaseWriter(this.#commands, group, writer, lastSeq),
    );
  }

  /**
   * Do what the boundary at `boundary` (seconds) of (group, interval) does in its layout (rotate
   * it), unless that boundary was done already.
   *
   * @returns the number of events rotated, or -1 when another master (or an earlier run) did it
   */
  rotate(group: GroupConfig, interval: IntervalConfig, boundary: number): Promise<number> {
    return this.#send(
      `rotate ${group.name}:${interval.name} in`,
      () => this.layoutOf(group).rotate(this.#commands, group, interval, boundary),
    );
  }

  /**
   * Raw values of one period (`last` or `cur`) of (group, interval): `events`, and with `listAll`
   * every event that has a count. Fails during an outage instead of waiting for it to end.
   */
  async readPeriod(
    group: GroupConfig,
    interval: IntervalConfig,
    slot: Slot,
    events: ReadonlySet<string>,
    listAll: boolean,
  ): Promise<PeriodValues> {
    await this.ready();
    return await this.#send(
      "read from",
      () => this.layoutOf(group).readPeriod(this.#commands, group, interval, slot, events, listAll),
    );
  }

  /**
   * Raw totals of a `totals: true` group (event ID → stored value), as its layout keeps them.
   * Fails during an outage instead of waiting for it to end.
   */
  async readTotals(group: GroupConfig): Promise<Map<string, string>> {
    await this.ready();
    return await this.#send(
      "read from",
      () => this.layoutOf(group).readTotals(this.#commands, group),
    );
  }

  /**
   * For each (group, interval) that has counts in the keys of a layout other than its own (its
   * `layout:` was switched, or another process runs with another config): a warning saying so.
   * Those counts are not read. Cheap probes, no SCAN, sent together (one round trip or two).
   */
  async otherLayoutWarnings(groups: Iterable<GroupConfig>): Promise<string[]> {
    await this.ready();
    const probes: Promise<string | undefined>[] = [];
    for (const group of groups) {
      const own = this.layoutOf(group);
      for (const other of [PYTHON, PERIODS]) {
        if (other === own || (other.rotates && this.#commands.cluster)) continue;
        for (const interval of group.intervals) {
          probes.push(
            this.#send("read from", () => other.hasCounts(this.#commands, group, interval)).then((
              found,
            ) => found ? otherLayoutWarning(group, interval, other, own) : undefined),
          );
        }
      }
    }
    return (await Promise.all(probes)).filter((warning) => warning !== undefined);
  }

  /**
   * {@link Store.otherLayoutWarnings} for the groups whose layout needs no master (`periods`): the
   * python-layout keys a switch left behind stay until deleted, and no `ecl master` runs for these
   * groups to warn about them (it warns about the other groups itself; periods hashes expire).
   * One `MGET` per (group, interval), none on a cluster.
   */
  masterlessLayoutWarnings(groups: Iterable<GroupConfig>): Promise<string[]> {
    const masterless = [...groups].filter((group) => !this.layoutOf(group).rotates);
    return masterless.length === 0 ? Promise.resolve([]) : this.otherLayoutWarnings(masterless);
  }

  /**
   * Redis's clock (`TIME`), in UNIX seconds with microseconds: the clock that decides which period
   * of a `periods` group is current.
   */
  async time(): Promise<number> {
    await this.ready();
    const [seconds, micros] = await this.#send(
      "read the clock of",
      // No key: no key rule of an ACL applies (on a cluster, any node answers).
      () => this.#run(TIME_SCRIPT.source, [], []),
    ) as [string, string];
    return Number(seconds) + Number(micros) / 1e6;
  }

  /**
   * The last `count` finished periods of (group, interval), oldest first, on Redis's clock.
   * @throws {RangeError} when the group's layout keeps no history, or fewer periods than `count`
   */
  async readHistory(
    group: GroupConfig,
    interval: IntervalConfig,
    count: number,
  ): Promise<HistoryPeriod[]> {
    const layout = this.layoutOf(group);
    await this.ready();
    try {
      return await layout.readHistory(this.#commands, group, interval, count);
    } catch (error) {
      if (error instanceof RangeError) throw error;
      throw this.#error("read from", error);
    }
  }

  /**
   * Take the master lease for `ttlMs`, or extend it when `holder` has it already.
   * @returns whether `holder` holds the lease now
   */
  async holdLease(holder: string, ttlMs: number): Promise<boolean> {
    const reply = await this.#send(
      "renew the master lease in",
      () => this.#run(LEASE_SCRIPT, [MASTER_LEASE_KEY], [holder, String(ttlMs)]),
    );
    return Number(reply) === 1;
  }

  /** Give the master lease up if `holder` has it. */
  async releaseLease(holder: string): Promise<void> {
    await this.#send(
      "release the master lease in",
      () => this.#run(RELEASE_SCRIPT, [MASTER_LEASE_KEY], [holder]),
    );
  }

  /** ID of the master holding the lease, or `undefined` when none does. */
  async leaseHolder(): Promise<string | undefined> {
    await this.ready();
    const [holder] = await this.#send("read from", () => this.#getValues([MASTER_LEASE_KEY]));
    return holder ?? undefined;
  }

  /**
   * Close the connection; commands already sent are answered first, unless `force` is set, which
   * drops the connection at once (pending commands fail).
   */
  async close(force = false): Promise<void> {
    if (this.#closed && !force) return;
    this.#closed = true;
    if (this.#connection.isOpen && !force) {
      try {
        await this.#connection.close();
      } catch {
        this.#connection.destroy();
      }
    } else {
      // Stops a reconnection loop that never succeeded.
      try {
        this.#connection.destroy();
      } catch {
        // Not open: nothing to release.
      }
    }
  }
}

/** The one wording of "counts of (group, interval) sit in the keys of `other`, not read". */
function otherLayoutWarning(
  group: GroupConfig,
  interval: IntervalConfig,
  other: Layout,
  own: Layout,
): string {
  return `group ${
    JSON.stringify(group.name)
  }, interval ${interval.name}: Redis holds counts in layout "${other.name}", but the group uses layout "${own.name}": they are not read (see README, "Layouts": switching a group's layout)`;
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

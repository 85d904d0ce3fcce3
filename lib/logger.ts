/**
 * `EventCountLogger`: the groups of one configuration sharing one Redis connection, and their
 * life cycle.
 * @module
 */
import { type EclConfig, type GroupsSpec, loadConfig, parseGroups } from "./config.ts";
import { parseRedis, type RedisSpec } from "./redis_config.ts";
import { DummyEventGroup, EventGroup } from "./group.ts";
import { Store } from "./store.ts";
import { expiryText, type WaitOptions, withTimeout } from "./_timeout.ts";
import { RedisError } from "./errors.ts";
import { offSignal, onSignal, raiseSignal } from "./_runtime.ts";

/** Prefix of every warning ecl prints by default. */
const WARNING_PREFIX = "ecl: ";

/** Options of {@link EventCountLogger}. */
export interface LoggerOptions {
  /**
   * Where warnings go (undeclared events, bad counts, Redis outages; once, at the first connection,
   * counts of a `layout: periods` group left in the python layout's keys). Messages never contain
   * a password.
   * @default a line on stderr via `console.warn`, prefixed with `ecl: `
   */
  onWarning?: (message: string) => void;
}

/** How long {@link EventCountLogger.close} waits for Redis to confirm the last counts, by default. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

/** Options of {@link EventCountLogger.close}. */
export interface CloseOptions {
  /**
   * How long to wait for Redis to confirm the last counts. After it, the connection is dropped and
   * one warning says how many counts were not written.
   * @default 10000
   */
  timeoutMs?: number;
}

/** Options of {@link EventCountLogger.getGroup}. */
export interface GetGroupOptions {
  /** For a group that is not configured, return a {@link DummyEventGroup} instead of `undefined`. @default false */
  dummy?: boolean;
  /** Warn (once per name) when the group is not configured. @default true */
  warn?: boolean;
}

/**
 * Counts named events per time interval in counters shared through Redis, by many processes on
 * many machines at once.
 */
export class EventCountLogger {
  readonly #groups = new Map<string, EventGroup>();
  readonly #store: Store;
  readonly #warn: (message: string) => void;
  readonly #warnedGroups = new Set<string>();
  #closing: Promise<void> | undefined;

  /**
   * Create a logger for the groups of a configuration. Everything is validated here; Redis is
   * connected on first use (see {@link EventCountLogger.ready}).
   *
   * @param groups the `groups:` section (group name → `events`, `intervals`, …)
   * @param redis the `redis:` section (`host`, `port`, `db`, `username`, `password`, `url`, `tls`)
   * @param options where warnings go
   * @throws {ConfigError} naming the first bad value, e.g. `groups.web.intervals[0]: …`
   */
  constructor(groups: GroupsSpec, redis?: RedisSpec, options?: LoggerOptions);
  /**
   * Create a logger from a configuration that `loadConfig()` or `parseConfig()` validated.
   *
   * @param config the validated configuration
   * @param options where warnings go
   */
  constructor(config: EclConfig, options?: LoggerOptions);
  constructor(
    groupsOrConfig: GroupsSpec | EclConfig,
    redisOrOptions?: RedisSpec | LoggerOptions,
    maybeOptions?: LoggerOptions,
  ) {
    let config: Pick<EclConfig, "groups" | "redis">;
    let options: LoggerOptions | undefined;
    if (isValidated(groupsOrConfig)) {
      config = groupsOrConfig;
      options = redisOrOptions as LoggerOptions | undefined;
    } else {
      config = {
        groups: parseGroups(groupsOrConfig),
        redis: parseRedis(redisOrOptions as RedisSpec | undefined),
      };
      options = maybeOptions;
    }
    this.#warn = options?.onWarning ?? ((message) => console.warn(WARNING_PREFIX + message));
    this.#store = new Store(config.redis, {
      onWarning: this.#warn,
      onReconnect: this.#warn,
      outageNote: "counts are kept and written when it is back",
      onConnect: () => this.#warnSwitchedLayouts(config.groups),
    });
    for (const group of config.groups.values()) {
      this.#groups.set(group.name, new EventGroup(group, { store: this.#store, warn: this.#warn }));
    }
  }

  /**
   * Once, at the first connection: warn about counts that a switch to `layout: periods` left in
   * the python layout's keys (not read; no master runs for such a group to say so). One `MGET`.
   */
  #warnSwitchedLayouts(groups: EclConfig["groups"]): void {
    if (withoutLayoutProbe.has(this)) return;
    this.#store.masterlessLayoutWarnings(groups.values()).then(
      (warnings) => warnings.forEach((warning) => this.#warn(warning)),
      () => {}, // a failed probe (Redis gone again, an ACL without it) warns nothing
    );
  }

  /**
   * Create a logger from a YAML configuration file (`ECL_REDIS_URL`, when set, replaces its
   * `redis:` section).
   *
   * @throws {ConfigError} when the file cannot be read or holds a bad value
   */
  static async fromFile(path: string, options?: LoggerOptions): Promise<EventCountLogger> {
    return new EventCountLogger(await loadConfig(path), options);
  }

  /** Names of the configured groups. */
  get groupNames(): string[] {
    return [...this.#groups.keys()];
  }

  /**
   * The group called `name`. For a group that is not configured: `undefined`, or with
   * `{ dummy: true }` a {@link DummyEventGroup} whose `log()` counts nothing; either way one
   * warning per name unless `{ warn: false }`.
   */
  getGroup(name: string, options: GetGroupOptions & { dummy: true }): EventGroup | DummyEventGroup;
  /** The group called `name`, or `undefined` (with one warning) when it is not configured. */
  getGroup(name: string, options?: GetGroupOptions): EventGroup | undefined;
  getGroup(name: string, options: GetGroupOptions = {}): EventGroup | DummyEventGroup | undefined {
    const group = this.#groups.get(name);
    if (group !== undefined) return group;
    if ((options.warn ?? true) && !this.#warnedGroups.has(name)) {
      this.#warnedGroups.add(name);
      this.#warn(
        `Cannot find group ${JSON.stringify(name)} in the configuration: ${
          options.dummy ? "its events are not counted" : "getGroup() returns undefined"
        }`,
      );
    }
    return options.dummy ? new DummyEventGroup(name) : undefined;
  }

  /** The group called `name`, or a {@link DummyEventGroup} (with one warning) when it is not configured. */
  group(name: string): EventGroup | DummyEventGroup {
    return this.getGroup(name, { dummy: true });
  }

  /**
   * Connect to Redis now. Resolves once connected; rejects as soon as the next connection attempt
   * fails (each attempt ends within 5 s; with Sentinel, after the sentinels were asked for 16 s).
   * A Redis that accepts the connection but never answers (frozen) is waited for: bound the wait
   * with `timeoutMs` or `signal`.
   *
   * @param options a deadline for the wait
   * @throws {RedisError} when the attempt fails or the wait ended (loggers keep retrying in the
   * background all the same)
   */
  async ready(options: WaitOptions = {}): Promise<void> {
    await withTimeout(this.#store.ready(), options, (reason) => {
      throw new RedisError(
        `Cannot connect to Redis at ${this.#store.address}: no answer ${
          expiryText(options, reason)
        }`,
        { cause: reason },
      );
    });
  }

  /**
   * Write every pending count of every group; resolves when Redis confirmed them. Waits while
   * Redis is down, without end unless `timeoutMs` or `signal` bound the wait: see
   * {@link EventGroup.flush}.
   *
   * @param options a deadline for the wait
   * @throws {RedisError} when a write failed or the wait ended; the counts stay pending
   */
  async flush(options: WaitOptions = {}): Promise<void> {
    await Promise.all([...this.#groups.values()].map((group) => group.flush(options)));
  }

  /**
   * On the first of `signals`, close the logger (writing every pending count), then let the signal
   * do what it would have done: end the process. For programs without shutdown handling of their
   * own; returns a function that removes the handlers again.
   *
   * @param signals the signals to handle
   * @param options passed to {@link EventCountLogger.close}
   * @example
   * ```ts
   * import { EventCountLogger } from "./mod.ts";
   * const ecl = new EventCountLogger({ jobs: { events: ["done"], intervals: ["1m"] } });
   * const remove = ecl.closeOnSignals(); // SIGINT, SIGTERM
   * ecl.getGroup("jobs")!.log("done");
   * remove();
   * await ecl.close();
   * ```
   */
  closeOnSignals(
    signals: readonly ("SIGINT" | "SIGTERM" | "SIGHUP" | "SIGQUIT")[] = ["SIGINT", "SIGTERM"],
    options: CloseOptions = {},
  ): () => void {
    const handlers = new Map<(typeof signals)[number], () => void>();
    const remove = () => {
      for (const [signal, handler] of handlers) offSignal(signal, handler);
      handlers.clear();
    };
    for (const signal of signals) {
      const handler = () => {
        remove();
        this.close(options).catch((error) => this.#warn((error as Error).message)).finally(() =>
          raiseSignal(signal)
        );
      };
      handlers.set(signal, handler);
      onSignal(signal, handler);
    }
    return remove;
  }

  /**
   * Write every pending count, stop the timers and disconnect. Later `log()` calls are ignored
   * with a warning. Calling it again returns the same promise.
   *
   * A write whose reply was lost is resent until Redis answers, and counted once. With every count
   * confirmed, the logger then removes its records of its last batch numbers (the `…:cur:@w:<id>`
   * keys) from Redis: nothing is left behind.
   *
   * When Redis does not confirm the last counts within `timeoutMs` (it is down), the connection is
   * dropped and one warning says how many (interval, period, event) counts were not written; the
   * logger's records then expire on their own, a few minutes later (README, "Guarantees").
   *
   * @throws {RedisError} when Redis refused the last counts
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= (async () => {
      const timeoutMs = options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
      const groups = [...this.#groups.values()];
      const flushed = Promise.all(groups.map((group) => group.close()));
      if (await withTimeout(flushed.then(() => false), timeoutMs, () => true)) {
        flushed.catch(() => {});
        let lost = 0;
        for (const group of groups) {
          group.abandon();
          lost += group.pendingSize;
        }
        // (Nothing pending: only the release of the writer keys was cut short; they expire.)
        if (lost > 0) {
          this.#warn(
            `Closed with ${lost} counts not written: Redis at ${this.#store.address} did not confirm them within ${
              timeoutMs / 1000
            } s`,
          );
        }
        await this.#store.close(true);
        return;
      }
      // Replies still awaited from a Redis that stopped answering are dropped at the deadline.
      await withTimeout(this.#store.close(), timeoutMs, () => this.#store.close(true));
    })();
    return this.#closing;
  }
}

function isValidated(value: GroupsSpec | EclConfig): value is EclConfig {
  return value.groups instanceof Map;
}

/** Loggers that skip the start-up probe for another layout's counts (see {@link skipLayoutProbe}). */
const withoutLayoutProbe = new WeakSet<EventCountLogger>();

/**
 * Internal (not in mod.ts), for `ecl log`: `logger` does not probe for counts in another layout's
 * keys at its first connection. A one-shot writer reads nothing, and its start-up stays lean.
 */
export function skipLayoutProbe(logger: EventCountLogger): void {
  withoutLayoutProbe.add(logger);
}

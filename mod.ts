/**
 * ecl — Event Count Logger. Counts named events per time interval (`5s`, `5m`, `1h`, …) across
 * many processes and machines, in counters shared through Redis. The default Redis layout is that
 * of the Python `event_count_logger`, so Python and TypeScript programs share counters; a group in
 * `layout: periods` keeps hashes per period instead (no master, history, Redis Cluster).
 *
 * `log()` is synchronous and never waits for Redis: counts are kept in the process and written in
 * pipelined, atomic batches. A master process (`ecl master CONFIG`) rotates the counters of the
 * default layout at every interval boundary; `getCounts()` or `ecl read` read the last finished
 * interval.
 *
 * @example Log events and read them back
 * ```ts
 * import { EventCountLogger } from "./mod.ts";
 *
 * const ecl = new EventCountLogger(
 *   { requests: { events: ["req1", "req2", "error"], intervals: ["5s", "5m"] } },
 *   { host: "localhost", port: 6379 },
 * );
 * const requests = ecl.getGroup("requests")!;
 * requests.log("req1"); // +1 in the current 5s and 5m intervals
 * requests.log("error", 3);
 * await requests.flush(); // optional: resolves once Redis has the counts
 * console.log(await requests.getCounts("5m", { current: true }));
 * await ecl.close(); // writes what is left, then disconnects
 * ```
 *
 * @module
 */

export { EventCountLogger } from "./lib/logger.ts";
export type { CloseOptions, GetGroupOptions, LoggerOptions } from "./lib/logger.ts";
export { DEFAULT_CLOSE_TIMEOUT_MS } from "./lib/logger.ts";
export { DummyEventGroup, EventGroup } from "./lib/group.ts";
export type { EventGroupLike, GetCountsOptions, HistoryEntry } from "./lib/group.ts";
export type { WaitOptions } from "./lib/_timeout.ts";
export { loadConfig, parseConfig } from "./lib/config.ts";
export type {
  EclConfig,
  GroupConfig,
  GroupSpec,
  GroupsSpec,
  IntervalConfig,
} from "./lib/config.ts";
export { REDIS_URL_ENV } from "./lib/redis_config.ts";
export type {
  ClusterConfig,
  ClusterSpec,
  RedisConfig,
  RedisSpec,
  SentinelConfig,
  SentinelSpec,
  TlsConfig,
  TlsSpec,
} from "./lib/redis_config.ts";
export { parseInterval } from "./lib/interval.ts";
export { ConfigError, EclError, NotFoundError, RedisError } from "./lib/errors.ts";
export { VERSION } from "./lib/version.ts";

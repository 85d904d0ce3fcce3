/**
 * Configuration: the YAML document of the original (`redis:` and `groups:`), validated into typed
 * values at load time. This module reads the file ({@link loadConfig}, the one file read), parses
 * the YAML and checks the `groups:` section; `lib/redis_config.ts` checks the `redis:` section and
 * `lib/ids.ts` the names. Every problem is a {@link ConfigError} naming the file, the YAML path and
 * the value at fault. YAML keys stay snake_case as in `example_config.yml`; the config modules are
 * the one place that turns them into camelCase.
 * @module
 */
import { Checker, type Mapping, member } from "./_config_checker.ts";
import { ConfigError } from "./errors.ts";
import { checkEventId, checkGroupName } from "./ids.ts";
import { parseInterval } from "./interval.ts";
import { FIELDS_PER_SHARD, shardCount } from "./layouts/periods_keys.ts";
import { fileErrorText, show } from "./_message.ts";
import { readTextFile } from "./_runtime.ts";
import { parseYaml, YamlError } from "./_yaml.ts";
import { parseRedis, REDIS_URL_ENV, type RedisConfig, redisUrlFromEnv } from "./redis_config.ts";

/** Default of `max_pending_keys`: at most about 90 MB of pending counters (36-90 B each). */
export const DEFAULT_MAX_PENDING_KEYS = 1_000_000;
/** Longest `sync_interval`: counts are written at every interval boundary anyway. */
export const MAX_SYNC_INTERVAL_SECONDS = 86_400;

/** One group as written in YAML (the value of `groups.<name>`). */
export interface GroupSpec {
  /** Predeclared event IDs; when absent, none. */
  events?: readonly (string | number)[] | null;
  /** Interval strings such as `"5s"`, `"5m"`, `"1h"`; at least one. */
  intervals: readonly string[];
  /** Accept event IDs that are not in `events`. @default false */
  auto_declare_events?: boolean;
  /** Cache counts locally and write them to Redis every this many seconds. */
  sync_interval?: number;
  /** Cache counts locally and write them as soon as one count reaches this value. */
  sync_limit?: number;
  /**
   * Most (interval, period, event) counters kept in a process while Redis does not confirm
   * writes; counts of new events beyond it are dropped, counted and reported.
   * @default 1000000
   */
  max_pending_keys?: number;
  /**
   * Keep a total per event that only ever grows (`ecl_events_total` in Prometheus), in Redis, one
   * hash field per event ID ever logged: never expires. @default false
   */
  totals?: boolean;
  /** How the counts sit in Redis: `python` (the original's keys) or `periods`. @default "python" */
  layout?: "python" | "periods";
  /** `layout: periods`: finished periods kept in Redis (≥ 1). @default 1 */
  history?: number;
  /**
   * `layout: periods`: distinct events expected per period; sizes the shards of the group's
   * hashes (one shard per 8,192 events, a power of two). @default 8192
   */
  max_events?: number;
}

/** How a group's counts sit in Redis (see README, "Layouts"). */
export type LayoutName = "python" | "periods";
/** The layouts a group may choose, the default first. */
export const LAYOUT_NAMES: readonly LayoutName[] = ["python", "periods"];

/** The `groups:` section as written in YAML: group name → {@link GroupSpec}. */
export type GroupsSpec = Readonly<Record<string, GroupSpec>>;

/** One interval of a group. */
export interface IntervalConfig {
  /** The interval string as configured (`5m`); keys use it as written. */
  readonly name: string;
  /** Its length in seconds. */
  readonly seconds: number;
}

/** A validated group. */
export interface GroupConfig {
  /** Group name. */
  readonly name: string;
  /** Predeclared event IDs. */
  readonly events: readonly string[];
  /** Intervals, in configured order. */
  readonly intervals: readonly IntervalConfig[];
  /** Whether event IDs outside `events` are accepted. */
  readonly autoDeclareEvents: boolean;
  /** Local cache: milliseconds between writes to Redis, when set. */
  readonly syncIntervalMs: number | undefined;
  /** Local cache: write as soon as one count reaches this, when set. */
  readonly syncLimit: number | undefined;
  /** Most pending (interval, period, event) counters per process. */
  readonly maxPendingKeys: number;
  /** Whether Redis keeps a total per event that only grows (`totals: true`). */
  readonly totals: boolean;
  /** How its counts sit in Redis. */
  readonly layout: "python" | "periods";
  /** `periods` layout: finished periods kept (≥ 1; 1 for `python`: its `last`). */
  readonly history: number;
  /**
   * `periods` layout: hashes per period (a power of two), from `max_events` (auto-declared groups)
   * or the number of predeclared events. Every writer and reader of the group must agree on it.
   */
  readonly shards: number;
}

/** A validated configuration. */
export interface EclConfig {
  /** Redis connection settings. */
  readonly redis: RedisConfig;
  /** Groups by name, in configured order. */
  readonly groups: ReadonlyMap<string, GroupConfig>;
  /** File the configuration was read from, if any. */
  readonly file: string | undefined;
}

const TOP_KEYS = ["redis", "groups"] as const;
const GROUP_KEYS = [
  "events",
  "intervals",
  "auto_declare_events",
  "sync_interval",
  "sync_limit",
  "max_pending_keys",
  "totals",
  "layout",
  "history",
  "max_events",
] as const;

/** Largest `history`: a year of 5-minute periods. */
export const MAX_HISTORY = 105_120;

function parseGroup(check: Checker, name: string, raw: unknown, path: string): GroupConfig {
  const spec = check.mapping(raw, path, GROUP_KEYS);

  const events: string[] = [];
  if (spec.events !== undefined && spec.events !== null) {
    const list = check.list(spec.events, member(path, "events"));
    list.forEach((value, index) => {
      const at = `${member(path, "events")}[${index}]`;
      const checked = checkEventId(value);
      if ("error" in checked) check.fail(at, checked.error);
      if (events.includes(checked.id)) check.fail(at, `Duplicate event ID ${show(checked.id)}`);
      events.push(checked.id);
    });
  }

  const intervalsPath = member(path, "intervals");
  if (spec.intervals === undefined || spec.intervals === null) {
    check.fail(intervalsPath, "Missing: every group needs a list of intervals, e.g. ['5m', '1h']");
  }
  const intervalList = check.list(spec.intervals, intervalsPath);
  if (intervalList.length === 0) {
    check.fail(intervalsPath, "Expected at least one interval, e.g. ['5m', '1h']");
  }
  const intervals: IntervalConfig[] = [];
  intervalList.forEach((value, index) => {
    const at = `${intervalsPath}[${index}]`;
    const text = check.string(value, at);
    let seconds: number;
    try {
      seconds = parseInterval(text);
    } catch (error) {
      check.fail(at, (error as Error).message);
    }
    const same = intervals.findIndex((known) => known.seconds === seconds);
    if (same >= 0) {
      check.fail(at, `Duplicate interval ${show(text)}: same length as ${intervalsPath}[${same}]`);
    }
    intervals.push({ name: text, seconds });
  });

  const autoDeclareEvents = spec.auto_declare_events === undefined
    ? false
    : check.boolean(spec.auto_declare_events, member(path, "auto_declare_events"));
  const syncInterval = spec.sync_interval === undefined
    ? undefined
    : check.positive(spec.sync_interval, member(path, "sync_interval"));
  if (syncInterval !== undefined && syncInterval > MAX_SYNC_INTERVAL_SECONDS) {
    check.fail(
      member(path, "sync_interval"),
      `Expected at most ${MAX_SYNC_INTERVAL_SECONDS} seconds, got ${
        show(syncInterval)
      }: counts are written at every interval boundary anyway`,
    );
  }
  const syncLimit = spec.sync_limit === undefined
    ? undefined
    : check.integer(spec.sync_limit, member(path, "sync_limit"), 1);

  const maxPendingKeys = spec.max_pending_keys === undefined
    ? DEFAULT_MAX_PENDING_KEYS
    : check.integer(spec.max_pending_keys, member(path, "max_pending_keys"), 1);

  const totals = spec.totals === undefined
    ? false
    : check.boolean(spec.totals, member(path, "totals"));
  const layout = spec.layout === undefined
    ? "python"
    : check.string(spec.layout, member(path, "layout")) as LayoutName;
  if (!LAYOUT_NAMES.includes(layout)) {
    check.fail(
      member(path, "layout"),
      `Unknown layout ${show(spec.layout)}: expected one of ${LAYOUT_NAMES.join(", ")}`,
    );
  }
  for (const key of ["history", "max_events"] as const) {
    if (spec[key] !== undefined && layout !== "periods") {
      check.fail(
        member(path, key),
        `Cannot use ${key} ${
          show(spec[key])
        } with layout "python" (it keeps only "last"): set layout: periods`,
      );
    }
  }
  const history = spec.history === undefined
    ? 1
    : check.integer(spec.history, member(path, "history"), 1, MAX_HISTORY);
  const maxEvents = spec.max_events === undefined
    ? undefined
    : check.integer(spec.max_events, member(path, "max_events"), 1);
  const expected = autoDeclareEvents
    ? Math.max(maxEvents ?? FIELDS_PER_SHARD, events.length)
    : events.length;

  return {
    name,
    events,
    intervals,
    autoDeclareEvents,
    maxPendingKeys,
    totals,
    layout,
    history,
    shards: shardCount(expected),
    syncIntervalMs: syncInterval === undefined ? undefined : syncInterval * 1000,
    syncLimit,
  };
}

/**
 * Validate the `groups:` section.
 *
 * @param raw the parsed YAML value (group name → spec)
 * @param file file name for error messages
 * @throws {ConfigError} naming the YAML path of the first bad value
 */
export function parseGroups(raw: unknown, file?: string): Map<string, GroupConfig> {
  const check = new Checker(file);
  if (raw === undefined || raw === null) check.fail("groups", "Missing: define at least one group");
  const groups = check.mapping(raw, "groups", Object.keys(raw as Mapping));
  const result = new Map<string, GroupConfig>();
  for (const [name, spec] of Object.entries(groups)) {
    const path = member("groups", name);
    const nameError = checkGroupName(name);
    if (nameError !== undefined) check.fail(path, nameError);
    result.set(name, parseGroup(check, name, spec, path));
  }
  if (result.size === 0) check.fail("groups", "Expected at least one group");
  return result;
}

/**
 * Validate a whole configuration document (the parsed YAML).
 *
 * @param raw the parsed YAML document
 * @param options `file` for error messages; `redisUrl` replaces the `redis:` section
 * @throws {ConfigError} naming the file and YAML path of the first bad value
 */
export function parseConfig(
  raw: unknown,
  options: { file?: string; redisUrl?: string } = {},
): EclConfig {
  const check = new Checker(options.file);
  const top = check.mapping(raw ?? undefined, "", TOP_KEYS);
  const redis = options.redisUrl === undefined || options.redisUrl === ""
    ? parseRedis(top.redis, options.file)
    : parseRedis({ url: options.redisUrl }, undefined, REDIS_URL_ENV);
  const groups = parseGroups(top.groups, options.file);
  if (redis.cluster !== undefined) {
    for (const group of groups.values()) {
      if (group.layout === "periods") continue;
      check.fail(
        member(member("groups", group.name), "layout"),
        `Cannot use layout ${
          show(group.layout)
        } in a Redis Cluster: its rotation needs every key of a group in one node, and Python loggers cannot share a cluster; set layout: periods`,
      );
    }
  }
  return { redis, groups, file: options.file };
}

/**
 * Read, parse and validate a YAML configuration file. `ECL_REDIS_URL`, when set, replaces its
 * `redis:` section.
 *
 * @throws {ConfigError} when the file cannot be read, is not valid YAML, or holds a bad value
 */
export async function loadConfig(file: string): Promise<EclConfig> {
  let text: string;
  try {
    text = await readTextFile(file);
  } catch (error) {
    throw new ConfigError(`Cannot read config file: ${fileErrorText(error)}`, "", file, {
      cause: error,
    });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    if (!(error instanceof YamlError)) throw error;
    const where = error.line === undefined ? "" : ` at line ${error.line}, column ${error.column}`;
    throw new ConfigError(`Cannot parse YAML${where}: ${error.message}`, "", file, {
      cause: error,
    });
  }
  return parseConfig(raw, { file, redisUrl: redisUrlFromEnv() });
}

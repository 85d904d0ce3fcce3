/**
 * Configuration: the YAML document of the original (`redis:` and `groups:`), validated into typed
 * values at load time. Every problem is a {@link ConfigError} naming the file, the YAML path and
 * the value at fault. YAML keys stay snake_case as in `example_config.yml`; this module is the one
 * place that turns them into camelCase.
 * @module
 */
import { readFile } from "node:fs/promises";
import process from "node:process";
// deno-lint-ignore no-import-prefix -- see lib/store.ts
import { LineCounter, parseDocument } from "npm:yaml@^2";
import { ConfigError } from "./errors.ts";
import { parseInterval } from "./interval.ts";
import { isReservedId, SEPARATOR } from "./keys.ts";

/** Default Redis host, as in the original. */
export const DEFAULT_REDIS_HOST = "localhost";
/** Default Redis port, as in the original. */
export const DEFAULT_REDIS_PORT = 6379;
/** Default Redis database index, as in the original. */
export const DEFAULT_REDIS_DB = 0;
/** Default of `max_pending_keys`: at most about 90 MB of pending counters (36-90 B each). */
export const DEFAULT_MAX_PENDING_KEYS = 1_000_000;
/** Environment variable whose Redis URL replaces the `redis:` section of a config file. */
export const REDIS_URL_ENV = "ECL_REDIS_URL";

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
}

/** The `groups:` section as written in YAML: group name → {@link GroupSpec}. */
export type GroupsSpec = Readonly<Record<string, GroupSpec>>;

/** TLS settings of the `redis.tls` section as written in YAML. */
export interface TlsSpec {
  /** PEM file of the certificate authority to trust instead of the system's. */
  ca_file?: string;
  /** PEM file of a client certificate. */
  cert_file?: string;
  /** PEM file of the client certificate's private key. */
  key_file?: string;
  /** Check the server's certificate. @default true */
  reject_unauthorized?: boolean;
}

/** The `redis:` section as written in YAML. */
export interface RedisSpec {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://…` for TLS; replaces host, port and db. */
  url?: string;
  /** Host name or address. @default "localhost" */
  host?: string;
  /** TCP port. @default 6379 */
  port?: number;
  /** Database index. @default 0 */
  db?: number;
  /** ACL user name. */
  username?: string;
  /** Password (of the ACL user, or of `requirepass`). */
  password?: string | number;
  /** `true`, or TLS settings, to connect with TLS. @default false */
  tls?: boolean | TlsSpec;
  /** Follow the master that Redis Sentinel names, instead of one fixed `host`/`url`. */
  sentinel?: SentinelSpec;
  /** Use a Redis Cluster (hash-tagged key layout, which the Python implementation cannot read). */
  cluster?: ClusterSpec;
}

/** The `redis.cluster` section as written in YAML. */
export interface ClusterSpec {
  /** Some nodes of the cluster: `host:port` strings (port 6379 when left out) or `{ host, port }`. */
  nodes: readonly (string | { host: string; port?: number })[];
}

/** The `redis.sentinel` section as written in YAML. */
export interface SentinelSpec {
  /** Name of the monitored master (`sentinel monitor <name> …`). */
  name: string;
  /** Sentinels to ask: `host:port` strings (port 26379 when left out) or `{ host, port }`. */
  nodes: readonly (string | { host: string; port?: number })[];
  /** ACL user name for the sentinels, when they require one. */
  username?: string;
  /** Password for the sentinels, when they require one. */
  password?: string;
}

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
}

/** Validated TLS settings (file names, read when connecting). */
export interface TlsConfig {
  /** CA file. */
  readonly caFile: string | undefined;
  /** Client certificate file. */
  readonly certFile: string | undefined;
  /** Client key file. */
  readonly keyFile: string | undefined;
  /** Check the server certificate. */
  readonly rejectUnauthorized: boolean;
}

/** Validated Redis connection settings. */
export interface RedisConfig {
  /** Host name or address. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /** Database index. */
  readonly db: number;
  /** ACL user name. */
  readonly username: string | undefined;
  /** Password. */
  readonly password: string | undefined;
  /** TLS settings, or `undefined` for plain TCP. */
  readonly tls: TlsConfig | undefined;
  /** Redis Sentinel settings; `host` and `port` are then those of the first sentinel. */
  readonly sentinel?: SentinelConfig | undefined;
  /** Redis Cluster nodes; `host` and `port` are then those of the first node. */
  readonly cluster?: ClusterConfig | undefined;
}

/** Validated Redis Cluster settings. */
export interface ClusterConfig {
  /** Nodes to discover the cluster from. */
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
}

/** Validated Redis Sentinel settings. */
export interface SentinelConfig {
  /** Name of the monitored master. */
  readonly name: string;
  /** The sentinels. */
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  /** ACL user name for the sentinels. */
  readonly username: string | undefined;
  /** Password for the sentinels. */
  readonly password: string | undefined;
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

type Mapping = Record<string, unknown>;

const TOP_KEYS = ["redis", "groups"] as const;
const GROUP_KEYS = [
  "events",
  "intervals",
  "auto_declare_events",
  "sync_interval",
  "sync_limit",
  "max_pending_keys",
] as const;
const REDIS_KEYS = [
  "url",
  "host",
  "port",
  "db",
  "username",
  "password",
  "tls",
  "sentinel",
  "cluster",
] as const;
const SENTINEL_KEYS = ["name", "nodes", "username", "password"] as const;
/** Port of a sentinel given without one. */
export const DEFAULT_SENTINEL_PORT = 26379;
const TLS_KEYS = ["ca_file", "cert_file", "key_file", "reject_unauthorized"] as const;
const URL_PROTOCOLS: Readonly<Record<string, boolean>> = { "redis:": false, "rediss:": true };
const MAX_PORT = 65535;

/** Show a value in an error message: JSON, cut short. */
function show(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? "nothing" : JSON.stringify(value) ?? String(value);
  } catch {
    // A YAML alias inside its own anchor's node (`&a [*a]`) gives a value that contains itself.
    text = Array.isArray(value) ? "a list that contains itself" : "a value that contains itself";
  }
  return text.length > 60 ? text.slice(0, 57) + "..." : text;
}

/** YAML path of a mapping member: `a.b`, or `a["b.c"]` when the key is not a plain word. */
function member(path: string, key: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key);
  const part = plain ? key : `[${JSON.stringify(key)}]`;
  if (path === "") return plain ? part : part;
  return plain ? `${path}.${part}` : `${path}${part}`;
}

class Checker {
  constructor(readonly file: string | undefined) {}

  fail(path: string, detail: string): never {
    throw new ConfigError(detail, path, this.file);
  }

  mapping(value: unknown, path: string, allowed: readonly string[]): Mapping {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.fail(path, `Expected a mapping, got ${show(value)}`);
    }
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) {
        this.fail(
          member(path, key),
          `Unknown key ${show(key)}: expected one of ${allowed.join(", ")}`,
        );
      }
    }
    return value as Mapping;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== "string") this.fail(path, `Expected a string, got ${show(value)}`);
    return value;
  }

  boolean(value: unknown, path: string): boolean {
    if (typeof value !== "boolean") {
      this.fail(path, `Expected true or false, got ${show(value)}`);
    }
    return value;
  }

  integer(value: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      this.fail(path, `Expected a whole number from ${min} to ${max}, got ${show(value)}`);
    }
    return value;
  }

  positive(value: unknown, path: string): number {
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      this.fail(path, `Expected a number greater than 0, got ${show(value)}`);
    }
    return value;
  }

  list(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, `Expected a list, got ${show(value)}`);
    return value;
  }
}

/**
 * Half of a UTF-16 surrogate pair without its other half. Keys are UTF-8 in Redis, where every
 * such half becomes U+FFFD: "\uD800", "\uDC00" and "\uFFFD" would share one counter.
 */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const NOT_UNICODE = "is not valid Unicode: it has half of a UTF-16 surrogate pair";

/** Line breaks: the text outputs (`ecl read`, Munin, `ecl log --stdin`) are one line per event. */
const LINE_BREAK = /[\r\n]/;
const NO_LINE_BREAK =
  "must not contain a line break: ecl read, Munin and ecl log --stdin work line by line";
/** Longest `sync_interval`: counts are written at every interval boundary anyway. */
export const MAX_SYNC_INTERVAL_SECONDS = 86_400;

/**
 * Check an event ID: a non-empty string (a YAML integer is taken as its decimal text, as the
 * original does) that does not start with `@`.
 *
 * @returns the ID as a string, or an error detail.
 */
export function checkEventId(value: unknown): { id: string } | { error: string } {
  const id = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof id !== "string") {
    return { error: `Expected an event ID (a string), got ${show(value)}` };
  }
  if (id === "") return { error: "Event ID must not be empty" };
  if (LONE_SURROGATE.test(id)) return { error: `Event ID ${show(id)} ${NOT_UNICODE}` };
  if (LINE_BREAK.test(id)) return { error: `Event ID ${show(id)} ${NO_LINE_BREAK}` };
  if (isReservedId(id)) {
    return {
      error: `Event ID ${
        show(id)
      } must not start with "@": such IDs are reserved for ecl's own keys`,
    };
  }
  return { id };
}

/** Check a group name: non-empty, no `:`, not starting with `@`. Returns an error detail or `undefined`. */
export function checkGroupName(name: string): string | undefined {
  if (name === "") return "Group name must not be empty";
  if (LONE_SURROGATE.test(name)) return `Group name ${show(name)} ${NOT_UNICODE}`;
  if (LINE_BREAK.test(name)) return `Group name ${show(name)} ${NO_LINE_BREAK}`;
  if (name.includes(SEPARATOR)) return `Group name ${show(name)} must not contain ":"`;
  if (isReservedId(name)) return `Group name ${show(name)} must not start with "@"`;
  return undefined;
}

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

  return {
    name,
    events,
    intervals,
    autoDeclareEvents,
    maxPendingKeys,
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

function parseTls(check: Checker, raw: unknown, path: string): TlsConfig | undefined {
  if (raw === undefined || raw === null || raw === false) return undefined;
  if (raw === true) {
    return { caFile: undefined, certFile: undefined, keyFile: undefined, rejectUnauthorized: true };
  }
  const spec = check.mapping(raw, path, TLS_KEYS);
  const file = (key: string) =>
    spec[key] === undefined ? undefined : check.string(spec[key], member(path, key));
  return {
    caFile: file("ca_file"),
    certFile: file("cert_file"),
    keyFile: file("key_file"),
    rejectUnauthorized: spec.reject_unauthorized === undefined
      ? true
      : check.boolean(spec.reject_unauthorized, member(path, "reject_unauthorized")),
  };
}

function parseRedisUrl(check: Checker, text: string, path: string): RedisConfig {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    check.fail(
      path,
      `Cannot parse Redis URL ${show(redactUrl(text))}: expected redis://host:port/db`,
    );
  }
  const tls = URL_PROTOCOLS[url.protocol];
  if (tls === undefined) {
    check.fail(
      path,
      `Cannot use Redis URL scheme ${show(url.protocol)}: expected redis: or rediss:`,
    );
  }
  const dbText = url.pathname.replace(/^\//, "");
  const db = dbText === "" ? DEFAULT_REDIS_DB : /^\d+$/.test(dbText) ? Number(dbText) : NaN;
  if (!Number.isSafeInteger(db)) {
    check.fail(path, `Cannot use database ${show(dbText)} of Redis URL: expected a whole number`);
  }
  const port = url.port === "" ? DEFAULT_REDIS_PORT : Number(url.port);
  if (port < 1) {
    check.fail(path, `Cannot use port ${show(url.port)} of Redis URL: expected 1 to ${MAX_PORT}`);
  }
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, "$1") || DEFAULT_REDIS_HOST,
    port,
    db,
    username: url.username === ""
      ? undefined
      : decodeUrlPart(check, url.username, "user name", path),
    password: url.password === ""
      ? undefined
      : decodeUrlPart(check, url.password, "password", path),
    tls: tls
      ? { caFile: undefined, certFile: undefined, keyFile: undefined, rejectUnauthorized: true }
      : undefined,
  };
}

/** Percent-decode the user name or password of a Redis URL; a bad `%` escape is a config error. */
function decodeUrlPart(check: Checker, text: string, what: string, path: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // Never show the text: it may be (part of) the password.
    return check.fail(path, `Cannot decode the ${what} of Redis URL: bad %-escape`);
  }
}

/** A list of `host:port` strings or `{host, port}` mappings (at least one). */
function parseNodes(
  check: Checker,
  raw: unknown,
  path: string,
  defaultPort: number,
): { host: string; port: number }[] {
  const list = check.list(raw, path);
  if (list.length === 0) check.fail(path, "Expected at least one node");
  return list.map((node, index) => {
    const at = `${path}[${index}]`;
    if (typeof node === "string") {
      const match = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(node);
      const port = match?.[3] === undefined ? defaultPort : Number(match[3]);
      if (match === null || port < 1 || port > MAX_PORT) {
        check.fail(at, `Cannot parse address ${show(node)}: expected host:port`);
      }
      return { host: match[1] ?? match[2], port };
    }
    const address = check.mapping(node, at, ["host", "port"]);
    return {
      host: check.string(address.host, member(at, "host")),
      port: address.port === undefined
        ? defaultPort
        : check.integer(address.port, member(at, "port"), 1, MAX_PORT),
    };
  });
}

function parseSentinel(check: Checker, raw: unknown, path: string): SentinelConfig {
  const spec = check.mapping(raw, path, SENTINEL_KEYS);
  const name = check.string(spec.name, member(path, "name"));
  if (name === "") check.fail(member(path, "name"), "Expected the name of the monitored master");
  const nodes = parseNodes(check, spec.nodes, member(path, "nodes"), DEFAULT_SENTINEL_PORT);
  const secret = spec.password;
  if (secret !== undefined && typeof secret !== "string") {
    check.fail(member(path, "password"), "Expected a string (value not shown)");
  }
  return {
    name,
    nodes,
    username: spec.username === undefined
      ? undefined
      : check.string(spec.username, member(path, "username")),
    password: secret as string | undefined,
  };
}

/**
 * Validate the `redis:` section (absent means `localhost:6379`, db 0).
 *
 * @throws {ConfigError} naming the YAML path of the first bad value
 */
export function parseRedis(raw: unknown, file?: string, path = "redis"): RedisConfig {
  const check = new Checker(file);
  if (raw === undefined || raw === null) raw = {};
  const spec = check.mapping(raw, path, REDIS_KEYS);
  const tls = parseTls(check, spec.tls, member(path, "tls"));
  const password = typeof spec.password === "number" ? String(spec.password) : spec.password;
  const username = spec.username === undefined
    ? undefined
    : check.string(spec.username, member(path, "username"));
  if (password !== undefined && typeof password !== "string") {
    // Name the type only: the bad value may hold the secret.
    const type = password === null ? "null" : Array.isArray(password) ? "a list" : typeof password;
    check.fail(member(path, "password"), `Expected a string, got ${type} (value not shown)`);
  }
  const checkedPassword = password as string | undefined;
  if (spec.cluster !== undefined) {
    for (const key of ["url", "host", "port", "sentinel"]) {
      if (spec[key] !== undefined) {
        check.fail(member(path, key), `Cannot combine ${show(key)} with "cluster"`);
      }
    }
    if (spec.db !== undefined && spec.db !== 0) {
      check.fail(
        member(path, "db"),
        `Cannot use database ${show(spec.db)} in a Redis Cluster: only 0`,
      );
    }
    const cluster = check.mapping(spec.cluster, member(path, "cluster"), ["nodes"]);
    const nodes = parseNodes(
      check,
      cluster.nodes,
      member(member(path, "cluster"), "nodes"),
      DEFAULT_REDIS_PORT,
    );
    return {
      host: nodes[0].host,
      port: nodes[0].port,
      db: 0,
      username,
      password: checkedPassword,
      tls,
      cluster: { nodes },
    };
  }
  if (spec.sentinel !== undefined) {
    for (const key of ["url", "host", "port"]) {
      if (spec[key] !== undefined) {
        check.fail(
          member(path, key),
          `Cannot combine ${show(key)} with "sentinel": the sentinels name the master`,
        );
      }
    }
    const sentinel = parseSentinel(check, spec.sentinel, member(path, "sentinel"));
    return {
      host: sentinel.nodes[0].host,
      port: sentinel.nodes[0].port,
      db: spec.db === undefined ? DEFAULT_REDIS_DB : check.integer(spec.db, member(path, "db"), 0),
      username,
      password: checkedPassword,
      tls,
      sentinel,
    };
  }
  if (spec.url !== undefined) {
    for (const key of ["host", "port", "db"]) {
      if (spec[key] !== undefined) {
        check.fail(member(path, key), `Cannot combine ${show(key)} with "url": put it in the URL`);
      }
    }
    const fromUrl = parseRedisUrl(
      check,
      check.string(spec.url, member(path, "url")),
      member(path, "url"),
    );
    return {
      ...fromUrl,
      username: username ?? fromUrl.username,
      password: checkedPassword ?? fromUrl.password,
      tls: tls ?? fromUrl.tls,
    };
  }
  return {
    host: spec.host === undefined
      ? DEFAULT_REDIS_HOST
      : check.string(spec.host, member(path, "host")),
    port: spec.port === undefined
      ? DEFAULT_REDIS_PORT
      : check.integer(spec.port, member(path, "port"), 1, MAX_PORT),
    db: spec.db === undefined ? DEFAULT_REDIS_DB : check.integer(spec.db, member(path, "db"), 0),
    username,
    password: checkedPassword,
    tls,
  };
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
  return { redis, groups: parseGroups(top.groups, options.file), file: options.file };
}

/** The value of `ECL_REDIS_URL`, or `undefined` when unset or when reading the environment is not allowed. */
export function redisUrlFromEnv(): string | undefined {
  try {
    return process.env[REDIS_URL_ENV] || undefined;
  } catch {
    return undefined;
  }
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
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    const reason = code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new ConfigError(`Cannot read config file: ${reason}`, "", file, { cause: error });
  }
  // Without prettyErrors, `linePos` stays unset: positions come from a LineCounter instead.
  const lineCounter = new LineCounter();
  const document = parseDocument(text, {
    prettyErrors: false,
    uniqueKeys: true,
    lineCounter,
    // No process warnings on stderr (e.g. for a mapping used as a key): only ConfigErrors.
    logLevel: "error",
  });
  const problem = document.errors[0];
  if (problem !== undefined) {
    const position = lineCounter.linePos(problem.pos[0]);
    const where = ` at line ${position.line}, column ${position.col}`;
    const what = problem.message.split("\n")[0];
    throw new ConfigError(`Cannot parse YAML${where}: ${what}`, "", file);
  }
  let raw: unknown;
  try {
    raw = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // An alias to a later anchor, or too many aliases (a "billion laughs" document).
    const what = (error as Error).message.split("\n")[0];
    throw new ConfigError(`Cannot parse YAML: ${what}`, "", file, { cause: error });
  }
  return parseConfig(raw, { file, redisUrl: redisUrlFromEnv() });
}

/** Replace the password of a Redis URL with `***`, for messages. */
export function redactUrl(text: string): string {
  // The user info runs to the LAST "@" (as URL parsing takes it), and the password from its first
  // ":", so an unescaped "@", "/" or ":" in a password (or "@" in a user name) is hidden too.
  const match = /^([a-z][a-z0-9+.-]*:\/\/)(.*)@/is.exec(text);
  if (match === null) return text;
  const colon = match[2].indexOf(":");
  if (colon < 0) return text;
  return match[1] + match[2].slice(0, colon + 1) + "***" + text.slice(match[0].length - 1);
}

/** `host:port/db` of a Redis config, for messages (never the password). */
export function redisAddress(config: RedisConfig): string {
  const hostPort = (host: string, port: number) =>
    `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const user = config.username === undefined ? "" : `${encodeURIComponent(config.username)}@`;
  if (config.cluster !== undefined) {
    const nodes = config.cluster.nodes.map((node) => hostPort(node.host, node.port)).join(",");
    return `${config.tls === undefined ? "redis" : "rediss"}-cluster://${user}${nodes}`;
  }
  if (config.sentinel !== undefined) {
    const nodes = config.sentinel.nodes.map((node) => hostPort(node.host, node.port)).join(",");
    const scheme = config.tls === undefined ? "redis-sentinel" : "rediss-sentinel";
    return `${scheme}://${user}${nodes}/${config.sentinel.name}/${config.db}`;
  }
  const scheme = config.tls === undefined ? "redis" : "rediss";
  return `${scheme}://${user}${hostPort(config.host, config.port)}/${config.db}`;
}

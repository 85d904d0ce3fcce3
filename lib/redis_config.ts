/**
 * The `redis:` section of a configuration (or the `ECL_REDIS_URL` that replaces it): one server by
 * host or URL, Redis Sentinel or Redis Cluster, with TLS; validated into a {@link RedisConfig}.
 * Also the two ways ecl shows where Redis is without its password: {@link redactUrl} and
 * {@link redisAddress}.
 * @module
 */
import { Checker, member } from "./_config_checker.ts";
import { hostPort, show } from "./_message.ts";
import { envVar } from "./_runtime.ts";

/** Default Redis host, as in the original. */
export const DEFAULT_REDIS_HOST = "localhost";
/** Default Redis port, as in the original. */
export const DEFAULT_REDIS_PORT = 6379;
/** Default Redis database index, as in the original. */
export const DEFAULT_REDIS_DB = 0;
/** Port of a sentinel given without one. */
export const DEFAULT_SENTINEL_PORT = 26379;
/** Environment variable whose Redis URL replaces the `redis:` section of a config file. */
export const REDIS_URL_ENV = "ECL_REDIS_URL";

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
const TLS_KEYS = ["ca_file", "cert_file", "key_file", "reject_unauthorized"] as const;
const URL_PROTOCOLS: Readonly<Record<string, boolean>> = { "redis:": false, "rediss:": true };
const MAX_PORT = 65535;

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

/** The value of `ECL_REDIS_URL`, or `undefined` when unset or when reading the environment is not allowed. */
export function redisUrlFromEnv(): string | undefined {
  try {
    return envVar(REDIS_URL_ENV) || undefined;
  } catch {
    return undefined;
  }
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

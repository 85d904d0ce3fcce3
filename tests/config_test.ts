/**
 * Pure tests of configuration validation (parseConfig, parseGroups, parseRedis) and of loadConfig
 * on temporary files. Every error path checks the class, `.path`, `.file` and a one-line message
 * that names the file, the path and the bad value.
 */
import assert from "node:assert/strict";
import { type GroupConfig, loadConfig, parseConfig, parseGroups } from "../lib/config.ts";
import { checkEventId, checkGroupName } from "../lib/ids.ts";
import {
  DEFAULT_REDIS_DB,
  DEFAULT_REDIS_HOST,
  DEFAULT_REDIS_PORT,
  parseRedis,
  redactUrl,
  REDIS_URL_ENV,
  redisAddress,
  type RedisConfig,
  redisUrlFromEnv,
} from "../lib/redis_config.ts";
import { ConfigError, EclError } from "../lib/errors.ts";

const FILE = "ecl.yml";
const NO_TLS_FILES = { caFile: undefined, certFile: undefined, keyFile: undefined };
const DEFAULT_REDIS: RedisConfig = {
  host: "localhost",
  port: 6379,
  db: 0,
  username: undefined,
  password: undefined,
  tls: undefined,
};

/** What a ConfigError must say. */
interface Expected {
  /** Exact `.path`. */
  path: string;
  /** Exact `.file`. */
  file?: string;
  /** Matched against the part of the message after `file: path: `. */
  detail: RegExp;
  /** Text (usually the bad value) that the message must contain. */
  shows?: string;
  /** Text that the message must not contain (a secret). */
  hides?: string;
}

function checkConfigError(error: unknown, expected: Expected): true {
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
  assert.ok(error instanceof EclError);
  assert.equal(error.name, "ConfigError");
  assert.equal(error.path, expected.path);
  assert.equal(error.file, expected.file);
  assert.equal(error.message.includes("\n"), false, `one line: ${JSON.stringify(error.message)}`);
  const prefix = [expected.file, expected.path].filter((part) => part !== undefined && part !== "")
    .map((part) => `${part}: `).join("");
  assert.ok(error.message.startsWith(prefix), `${JSON.stringify(error.message)} starts ${prefix}`);
  assert.match(error.message.slice(prefix.length), expected.detail);
  if (expected.shows !== undefined) {
    assert.ok(error.message.includes(expected.shows), `${error.message} shows ${expected.shows}`);
  }
  if (expected.hides !== undefined) {
    assert.equal(error.message.includes(expected.hides), false, `${error.message} hides secret`);
  }
  return true;
}

function assertConfigError(fn: () => unknown, expected: Expected): void {
  assert.throws(fn, (error: unknown) => checkConfigError(error, expected));
}

async function assertConfigErrorAsync(fn: () => Promise<unknown>, expected: Expected) {
  await assert.rejects(fn, (error: unknown) => checkConfigError(error, expected));
}

/** A whole document with one group `requests` made of `spec`. */
function withGroup(spec: Record<string, unknown>): Record<string, unknown> {
  return { groups: { requests: spec } };
}

/** Parse a document with one group `requests` made of `spec`; return that group. */
function group(spec: Record<string, unknown>): GroupConfig {
  const config = parseConfig(withGroup(spec), { file: FILE });
  return config.groups.get("requests")!;
}

// ---------------------------------------------------------------------------------------------
// parseConfig: valid documents

Deno.test("parseConfig() converts a full document to camelCase config", () => {
  const config = parseConfig({
    redis: { host: "redis.example", port: 6380, db: 3, username: "ecl", password: "pw" },
    groups: {
      requests: {
        events: ["req1", "req2"],
        intervals: ["5m", "1h"],
        auto_declare_events: true,
        sync_interval: 2.5,
        sync_limit: 100,
      },
      errors: { intervals: ["10s"] },
    },
  }, { file: FILE });
  assert.equal(config.file, FILE);
  assert.deepEqual(config.redis, {
    host: "redis.example",
    port: 6380,
    db: 3,
    username: "ecl",
    password: "pw",
    tls: undefined,
  });
  assert.deepEqual([...config.groups.keys()], ["requests", "errors"]);
  assert.deepEqual(config.groups.get("requests"), {
    name: "requests",
    events: ["req1", "req2"],
    intervals: [{ name: "5m", seconds: 300 }, { name: "1h", seconds: 3600 }],
    autoDeclareEvents: true,
    syncIntervalMs: 2500,
    syncLimit: 100,
    maxPendingKeys: 1_000_000,
  });
  assert.deepEqual(config.groups.get("errors"), {
    name: "errors",
    events: [],
    intervals: [{ name: "10s", seconds: 10 }],
    autoDeclareEvents: false,
    syncIntervalMs: undefined,
    syncLimit: undefined,
    maxPendingKeys: 1_000_000,
  });
});

Deno.test("parseConfig() without redis: uses localhost:6379 db 0", () => {
  assert.equal(DEFAULT_REDIS_HOST, "localhost");
  assert.equal(DEFAULT_REDIS_PORT, 6379);
  assert.equal(DEFAULT_REDIS_DB, 0);
  const groups = { g: { intervals: ["5m"] } };
  assert.deepEqual(parseConfig({ groups }).redis, DEFAULT_REDIS);
  assert.deepEqual(parseConfig({ groups, redis: null }).redis, DEFAULT_REDIS);
  assert.deepEqual(parseConfig({ groups, redis: {} }).redis, DEFAULT_REDIS);
  assert.equal(parseConfig({ groups }).file, undefined);
});

Deno.test("parseConfig() keeps interval names as written", () => {
  assert.deepEqual(group({ intervals: ["10S", "05m", "0.5h", "1.5H"] }).intervals, [
    { name: "10S", seconds: 10 },
    { name: "05m", seconds: 300 },
    { name: "0.5h", seconds: 1800 },
    { name: "1.5H", seconds: 5400 },
  ]);
});

Deno.test("parseConfig() takes integer event IDs as decimal strings", () => {
  assert.deepEqual(group({ intervals: ["5m"], events: [1, 42, -7, 0, "x", "a:b"] }).events, [
    "1",
    "42",
    "-7",
    "0",
    "x",
    "a:b",
  ]);
});

Deno.test("parseConfig() treats events: null and a missing events: as no events", () => {
  assert.deepEqual(group({ intervals: ["5m"], events: null }).events, []);
  assert.deepEqual(group({ intervals: ["5m"] }).events, []);
  assert.deepEqual(group({ intervals: ["5m"], events: [] }).events, []);
});

Deno.test("parseConfig() accepts the limits of sync_interval and sync_limit", () => {
  const small = group({ intervals: ["5m"], sync_interval: 0.001, sync_limit: 1 });
  assert.equal(small.syncIntervalMs, 1);
  assert.equal(small.syncLimit, 1);
  assert.equal(group({ intervals: ["5m"], sync_interval: 10 }).syncIntervalMs, 10_000);
  assert.equal(group({ intervals: ["5m"], auto_declare_events: false }).autoDeclareEvents, false);
});

Deno.test("parseConfig() accepts group names with dots, dashes, spaces and unicode", () => {
  const names = ["web.api", "web-api", "web api", "žluť", "g?", "a[b]", "x*"];
  const config = parseConfig({
    groups: Object.fromEntries(names.map((name) => [name, { intervals: ["5m"] }])),
  });
  assert.deepEqual([...config.groups.keys()], names);
  assert.deepEqual(names.map((name) => config.groups.get(name)!.name), names);
});

Deno.test("parseConfig() with redisUrl replaces the redis: section", async (t) => {
  const groups = { g: { intervals: ["5m"] } };
  await t.step("a URL replaces host, port and db", () => {
    const config = parseConfig({ groups, redis: { host: "file-host", port: 1 } }, {
      file: FILE,
      redisUrl: "redis://env-host:7000/4",
    });
    assert.deepEqual(config.redis, { ...DEFAULT_REDIS, host: "env-host", port: 7000, db: 4 });
  });
  await t.step("an empty URL is ignored", () => {
    const config = parseConfig({ groups, redis: { host: "file-host" } }, { redisUrl: "" });
    assert.equal(config.redis.host, "file-host");
  });
  await t.step("a bad URL is reported under the variable's name", () => {
    assertConfigError(
      () => parseConfig({ groups }, { file: FILE, redisUrl: "http://u:secret@h" }),
      {
        path: `${REDIS_URL_ENV}.url`,
        detail: /^Cannot use Redis URL scheme "http:": expected redis: or rediss:$/,
        hides: "secret",
      },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// parseConfig: errors of the document and of groups:

Deno.test("parseConfig() rejects a document that is not a mapping", async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ["null", null, /^Expected a mapping, got nothing$/],
    ["undefined", undefined, /^Expected a mapping, got nothing$/],
    ["a list", ["groups"], /^Expected a mapping, got \["groups"\]$/],
    ["a string", "groups", /^Expected a mapping, got "groups"$/],
    ["a number", 5, /^Expected a mapping, got 5$/],
  ];
  for (const [name, raw, detail] of cases) {
    await t.step(name, () => {
      assertConfigError(() => parseConfig(raw, { file: FILE }), { path: "", file: FILE, detail });
    });
  }
});

Deno.test("parseConfig() rejects an unknown top-level key", () => {
  assertConfigError(
    () => parseConfig({ groups: { g: { intervals: ["5m"] } }, grups: {} }, { file: FILE }),
    {
      path: "grups",
      file: FILE,
      detail: /^Unknown key "grups": expected one of redis, groups$/,
    },
  );
  assertConfigError(
    () => parseConfig({ "bad key": 1 }, { file: FILE }),
    { path: '["bad key"]', file: FILE, detail: /^Unknown key "bad key": expected one of/ },
  );
});

Deno.test("parseConfig() rejects a missing, empty or malformed groups: section", async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ["missing", undefined, /^Missing: define at least one group$/],
    ["null", null, /^Missing: define at least one group$/],
    ["empty", {}, /^Expected at least one group$/],
    ["a list", ["requests"], /^Expected a mapping, got \["requests"\]$/],
    ["a string", "requests", /^Expected a mapping, got "requests"$/],
  ];
  for (const [name, groups, detail] of cases) {
    await t.step(name, () => {
      const raw = groups === undefined ? {} : { groups };
      assertConfigError(() => parseConfig(raw, { file: FILE }), {
        path: "groups",
        file: FILE,
        detail,
      });
    });
  }
});

Deno.test("parseConfig() rejects bad group names", async (t) => {
  const cases: [string, string, RegExp][] = [
    ["a:b", 'groups["a:b"]', /^Group name "a:b" must not contain ":"$/],
    [":", 'groups[":"]', /^Group name ":" must not contain ":"$/],
    ["@g", 'groups["@g"]', /^Group name "@g" must not start with "@"$/],
    ["", 'groups[""]', /^Group name must not be empty$/],
  ];
  for (const [name, path, detail] of cases) {
    await t.step(JSON.stringify(name), () => {
      assertConfigError(
        () =>
          parseConfig({ groups: { ok: { intervals: ["5m"] }, [name]: { intervals: ["5m"] } } }, {
            file: FILE,
          }),
        { path, file: FILE, detail },
      );
    });
  }
});

Deno.test("checkGroupName() returns an error detail or undefined", () => {
  assert.equal(checkGroupName("requests"), undefined);
  assert.equal(checkGroupName("a@b"), undefined);
  assert.equal(checkGroupName(""), "Group name must not be empty");
  assert.equal(checkGroupName("a:b"), 'Group name "a:b" must not contain ":"');
  assert.equal(checkGroupName("@g"), 'Group name "@g" must not start with "@"');
});

Deno.test("parseConfig() rejects a group spec that is not a mapping or has unknown keys", async (t) => {
  const cases: [string, unknown, string, RegExp][] = [
    ["a string", "5m", "groups.requests", /^Expected a mapping, got "5m"$/],
    ["null", null, "groups.requests", /^Expected a mapping, got null$/],
    ["a list", ["5m"], "groups.requests", /^Expected a mapping, got \["5m"\]$/],
    [
      "unknown key interval",
      { interval: ["5m"] },
      "groups.requests.interval",
      /^Unknown key "interval": expected one of events, intervals, auto_declare_events, sync_interval, sync_limit, max_pending_keys$/,
    ],
    [
      "unknown key with a dot",
      { intervals: ["5m"], "sync.limit": 3 },
      'groups.requests["sync.limit"]',
      /^Unknown key "sync\.limit": expected one of /,
    ],
  ];
  for (const [name, spec, path, detail] of cases) {
    await t.step(name, () => {
      assertConfigError(
        () => parseConfig({ groups: { requests: spec } }, { file: FILE }),
        { path, file: FILE, detail },
      );
    });
  }
});

Deno.test("parseConfig() rejects missing, empty and non-list intervals", async (t) => {
  const path = "groups.requests.intervals";
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["missing", { events: ["a"] }, /^Missing: every group needs a list of intervals/],
    ["null", { intervals: null }, /^Missing: every group needs a list of intervals/],
    ["empty", { intervals: [] }, /^Expected at least one interval, e\.g\. \['5m', '1h'\]$/],
    ["a string", { intervals: "5m" }, /^Expected a list, got "5m"$/],
    ["a mapping", { intervals: { "5m": 1 } }, /^Expected a list, got \{"5m":1\}$/],
  ];
  for (const [name, spec, detail] of cases) {
    await t.step(name, () => {
      assertConfigError(() => parseConfig(withGroup(spec), { file: FILE }), {
        path,
        file: FILE,
        detail,
      });
    });
  }
});

Deno.test("parseConfig() rejects bad interval strings at their index", async (t) => {
  const cases: [unknown, RegExp, string][] = [
    ["0m", /^Cannot use interval "0m": it must be a whole number of seconds, at least 1$/, '"0m"'],
    ["0s", /^Cannot use interval "0s": /, '"0s"'],
    ["-5m", /^Cannot parse interval "-5m": expected a positive number/, '"-5m"'],
    ["+5m", /^Cannot parse interval "\+5m": expected a positive number/, '"+5m"'],
    ["5x", /^Cannot parse interval "5x": expected a positive number/, '"5x"'],
    ["", /^Cannot parse interval "": expected a positive number/, '""'],
    ["m", /^Cannot parse interval "m": /, '"m"'],
    [" 5m", /^Cannot parse interval " 5m": /, '" 5m"'],
    ["1.5s", /^Cannot use interval "1\.5s": it must be a whole number of seconds/, '"1.5s"'],
    [300, /^Expected a string, got 300$/, "300"],
    [null, /^Expected a string, got null$/, "null"],
    [["5m"], /^Expected a string, got \["5m"\]$/, '["5m"]'],
  ];
  for (const [value, detail, shows] of cases) {
    await t.step(JSON.stringify(value), () => {
      assertConfigError(
        () => parseConfig(withGroup({ intervals: ["1h", value] }), { file: FILE }),
        { path: "groups.requests.intervals[1]", file: FILE, detail, shows },
      );
    });
  }
});

Deno.test("parseConfig() rejects intervals of the same length", async (t) => {
  const cases: [string[], number, RegExp][] = [
    [["5m", "5m"], 1, /^Duplicate interval "5m": same length as groups\.requests\.intervals\[0\]$/],
    [
      ["1h", "5m", "300s"],
      2,
      /^Duplicate interval "300s": same length as groups\.requests\.intervals\[1\]$/,
    ],
    [["5m", "5M"], 1, /^Duplicate interval "5M": same length as groups\.requests\.intervals\[0\]$/],
    [["1h", "60m"], 1, /^Duplicate interval "60m": same length as /],
    [["0.5m", "30s"], 1, /^Duplicate interval "30s": same length as /],
  ];
  for (const [intervals, index, detail] of cases) {
    await t.step(intervals.join(", "), () => {
      assertConfigError(() => parseConfig(withGroup({ intervals }), { file: FILE }), {
        path: `groups.requests.intervals[${index}]`,
        file: FILE,
        detail,
      });
    });
  }
});

Deno.test("parseConfig() rejects bad sync_interval, sync_limit and auto_declare_events", async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ["sync_interval", 0, /^Expected a number greater than 0, got 0$/],
    ["sync_interval", -1, /^Expected a number greater than 0, got -1$/],
    ["sync_interval", -0.5, /^Expected a number greater than 0, got -0\.5$/],
    ["sync_interval", "5", /^Expected a number greater than 0, got "5"$/],
    ["sync_interval", true, /^Expected a number greater than 0, got true$/],
    ["sync_interval", null, /^Expected a number greater than 0, got null$/],
    ["sync_interval", Infinity, /^Expected a number greater than 0, got null$/], // JSON of Infinity
    ["sync_interval", NaN, /^Expected a number greater than 0, got null$/],
    ["sync_limit", 0, /^Expected a whole number from 1 to 9007199254740991, got 0$/],
    ["sync_limit", 1.5, /^Expected a whole number from 1 to 9007199254740991, got 1\.5$/],
    ["sync_limit", -3, /^Expected a whole number from 1 to 9007199254740991, got -3$/],
    ["sync_limit", "10", /^Expected a whole number from 1 to 9007199254740991, got "10"$/],
    [
      "sync_limit",
      2 ** 53,
      /^Expected a whole number from 1 to 9007199254740991, got 9007199254740992$/,
    ],
    ["auto_declare_events", "yes", /^Expected true or false, got "yes"$/],
    ["auto_declare_events", 1, /^Expected true or false, got 1$/],
    ["auto_declare_events", null, /^Expected true or false, got null$/],
  ];
  for (const [key, value, detail] of cases) {
    await t.step(`${key}: ${String(value)}`, () => {
      assertConfigError(
        () => parseConfig(withGroup({ intervals: ["5m"], [key]: value }), { file: FILE }),
        { path: `groups.requests.${key}`, file: FILE, detail },
      );
    });
  }
});

Deno.test("parseConfig() rejects bad event IDs at their index", async (t) => {
  const cases: [string, unknown[], number, RegExp][] = [
    ["empty", ["a", ""], 1, /^Event ID must not be empty$/],
    [
      "starting with @",
      ["a", "@ts"],
      1,
      /^Event ID "@ts" must not start with "@": such IDs are reserved for ecl's own keys$/,
    ],
    ["duplicate", ["a", "b", "a"], 2, /^Duplicate event ID "a"$/],
    ["duplicate of an integer", [1, "1"], 1, /^Duplicate event ID "1"$/],
    ["true", ["a", true], 1, /^Expected an event ID \(a string\), got true$/],
    ["a float", [1.5], 0, /^Expected an event ID \(a string\), got 1\.5$/],
    ["null", [null], 0, /^Expected an event ID \(a string\), got null$/],
    ["a list", [["a"]], 0, /^Expected an event ID \(a string\), got \["a"\]$/],
    ["a mapping", [{ a: 1 }], 0, /^Expected an event ID \(a string\), got \{"a":1\}$/],
    [
      "an unsafe integer",
      [2 ** 60],
      0,
      /^Expected an event ID \(a string\), got 1152921504606847000$/,
    ],
  ];
  for (const [name, events, index, detail] of cases) {
    await t.step(name, () => {
      assertConfigError(
        () => parseConfig(withGroup({ intervals: ["5m"], events }), { file: FILE }),
        { path: `groups.requests.events[${index}]`, file: FILE, detail },
      );
    });
  }
  await t.step("events: not a list", () => {
    assertConfigError(
      () => parseConfig(withGroup({ intervals: ["5m"], events: "a" }), { file: FILE }),
      { path: "groups.requests.events", file: FILE, detail: /^Expected a list, got "a"$/ },
    );
  });
});

Deno.test("parseConfig() cuts long values in messages to 60 characters", () => {
  const long = "@" + "x".repeat(100);
  assertConfigError(
    () => parseConfig(withGroup({ intervals: ["5m"], events: [long] }), { file: FILE }),
    {
      path: "groups.requests.events[0]",
      file: FILE,
      detail: new RegExp(`^Event ID "@${"x".repeat(55)}\\.\\.\\. must not start with "@"`),
    },
  );
});

Deno.test("checkEventId() returns the ID as a string or an error detail", () => {
  assert.deepEqual(checkEventId("a:b"), { id: "a:b" });
  assert.deepEqual(checkEventId(7), { id: "7" });
  assert.deepEqual(checkEventId(""), { error: "Event ID must not be empty" });
  assert.deepEqual(checkEventId(undefined), {
    error: "Expected an event ID (a string), got nothing",
  });
  assert.deepEqual(checkEventId("@x"), {
    error: 'Event ID "@x" must not start with "@": such IDs are reserved for ecl\'s own keys',
  });
});

Deno.test("parseGroups() validates without a file name", () => {
  const groups = parseGroups({ g: { intervals: ["1m"], events: ["a"] } });
  assert.deepEqual([...groups.keys()], ["g"]);
  assert.deepEqual(groups.get("g")!.intervals, [{ name: "1m", seconds: 60 }]);
  assertConfigError(() => parseGroups({ g: { intervals: ["1m", "60s"] } }), {
    path: "groups.g.intervals[1]",
    detail: /^Duplicate interval "60s": same length as groups\.g\.intervals\[0\]$/,
  });
  assertConfigError(() => parseGroups({ g: { intervals: [] } }, "other.yml"), {
    path: "groups.g.intervals",
    file: "other.yml",
    detail: /^Expected at least one interval/,
  });
});

// ---------------------------------------------------------------------------------------------
// parseRedis

Deno.test("parseRedis() reads host, port, db, username and a password", () => {
  assert.deepEqual(parseRedis({ host: "::1", port: 1, db: 15, username: "u", password: "p" }), {
    host: "::1",
    port: 1,
    db: 15,
    username: "u",
    password: "p",
    tls: undefined,
  });
  assert.equal(parseRedis({ port: 65535 }).port, 65535);
});

Deno.test("parseRedis() turns a numeric password into a string", () => {
  assert.equal(parseRedis({ password: 123456 }).password, "123456");
  assert.equal(parseRedis({ password: 0 }).password, "0");
});

Deno.test("parseRedis() reads tls: true and a tls: mapping", async (t) => {
  await t.step("true", () => {
    assert.deepEqual(parseRedis({ tls: true }).tls, { ...NO_TLS_FILES, rejectUnauthorized: true });
  });
  await t.step("false and null mean plain TCP", () => {
    assert.equal(parseRedis({ tls: false }).tls, undefined);
    assert.equal(parseRedis({ tls: null }).tls, undefined);
  });
  await t.step("an empty mapping", () => {
    assert.deepEqual(parseRedis({ tls: {} }).tls, { ...NO_TLS_FILES, rejectUnauthorized: true });
  });
  await t.step("a full mapping", () => {
    assert.deepEqual(
      parseRedis({
        tls: {
          ca_file: "ca.pem",
          cert_file: "c.pem",
          key_file: "k.pem",
          reject_unauthorized: false,
        },
      }).tls,
      { caFile: "ca.pem", certFile: "c.pem", keyFile: "k.pem", rejectUnauthorized: false },
    );
  });
});

Deno.test("parseRedis() reads a URL", async (t) => {
  const cases: [string, RedisConfig][] = [
    ["redis://example.com", { ...DEFAULT_REDIS, host: "example.com" }],
    ["redis://example.com:6380/2", { ...DEFAULT_REDIS, host: "example.com", port: 6380, db: 2 }],
    ["redis://example.com/", { ...DEFAULT_REDIS, host: "example.com" }],
    ["redis://[::1]:7000/1", { ...DEFAULT_REDIS, host: "::1", port: 7000, db: 1 }],
    ["redis://:s3cret@h", { ...DEFAULT_REDIS, host: "h", password: "s3cret" }],
    [
      "rediss://al%40ice:p%40ss%3Aw@h:6390/0",
      {
        ...DEFAULT_REDIS,
        host: "h",
        port: 6390,
        username: "al@ice",
        password: "p@ss:w",
        tls: { ...NO_TLS_FILES, rejectUnauthorized: true },
      },
    ],
    ["REDIS://H:1/3", { ...DEFAULT_REDIS, host: "H", port: 1, db: 3 }],
  ];
  for (const [url, expected] of cases) {
    await t.step(url, () => {
      assert.deepEqual(parseRedis({ url }), expected);
    });
  }
});

Deno.test("parseRedis() lets username, password and tls override the URL", () => {
  assert.deepEqual(
    parseRedis({
      url: "redis://u:p@h:7000/2",
      username: "other",
      password: 42,
      tls: { reject_unauthorized: false },
    }),
    {
      host: "h",
      port: 7000,
      db: 2,
      username: "other",
      password: "42",
      tls: { ...NO_TLS_FILES, rejectUnauthorized: false },
    },
  );
});

Deno.test("parseRedis() rejects bad values", async (t) => {
  const cases: [string, unknown, string, RegExp, string?][] = [
    ["not a mapping", "localhost", "redis", /^Expected a mapping, got "localhost"$/],
    [
      "unknown key",
      { hots: "h" },
      "redis.hots",
      /^Unknown key "hots": expected one of url, host, port, db, username, password, tls, sentinel, cluster$/,
    ],
    ["host not a string", { host: 5 }, "redis.host", /^Expected a string, got 5$/],
    ["port 0", { port: 0 }, "redis.port", /^Expected a whole number from 1 to 65535, got 0$/],
    [
      "port 65536",
      { port: 65536 },
      "redis.port",
      /^Expected a whole number from 1 to 65535, got 65536$/,
    ],
    ["port -1", { port: -1 }, "redis.port", /^Expected a whole number from 1 to 65535, got -1$/],
    [
      "port 1.5",
      { port: 1.5 },
      "redis.port",
      /^Expected a whole number from 1 to 65535, got 1\.5$/,
    ],
    ["port a string", { port: "6379" }, "redis.port", /^Expected a whole number .*, got "6379"$/],
    [
      "db -1",
      { db: -1 },
      "redis.db",
      /^Expected a whole number from 0 to 9007199254740991, got -1$/,
    ],
    ["db 0.5", { db: 0.5 }, "redis.db", /^Expected a whole number from 0 to .*, got 0\.5$/],
    ["username not a string", { username: 7 }, "redis.username", /^Expected a string, got 7$/],
    ["tls a string", { tls: "yes" }, "redis.tls", /^Expected a mapping, got "yes"$/],
    [
      "tls unknown key",
      { tls: { verify: true } },
      "redis.tls.verify",
      /^Unknown key "verify": expected one of ca_file, cert_file, key_file, reject_unauthorized$/,
    ],
    [
      "tls ca_file not a string",
      { tls: { ca_file: 1 } },
      "redis.tls.ca_file",
      /^Expected a string, got 1$/,
    ],
    [
      "tls reject_unauthorized not a boolean",
      { tls: { reject_unauthorized: "no" } },
      "redis.tls.reject_unauthorized",
      /^Expected true or false, got "no"$/,
    ],
    ["url not a string", { url: 5 }, "redis.url", /^Expected a string, got 5$/],
    [
      "url with host",
      { url: "redis://h", host: "h" },
      "redis.host",
      /^Cannot combine "host" with "url": put it in the URL$/,
    ],
    [
      "url with port",
      { url: "redis://h", port: 1 },
      "redis.port",
      /^Cannot combine "port" with "url": put it in the URL$/,
    ],
    [
      "url with db",
      { url: "redis://h", db: 0 },
      "redis.db",
      /^Cannot combine "db" with "url": put it in the URL$/,
    ],
    [
      "url with a bad scheme",
      { url: "http://h:6379" },
      "redis.url",
      /^Cannot use Redis URL scheme "http:": expected redis: or rediss:$/,
    ],
    [
      "url that is not a URL",
      { url: "localhost:6379" },
      "redis.url",
      /^Cannot use Redis URL scheme "localhost:": expected redis: or rediss:$/,
    ],
    [
      "url that cannot be parsed",
      { url: "redis://h:port" },
      "redis.url",
      /^Cannot parse Redis URL "redis:\/\/h:port": expected redis:\/\/host:port\/db$/,
    ],
    [
      "url with port 99999",
      { url: "redis://h:99999" },
      "redis.url",
      /^Cannot parse Redis URL "redis:\/\/h:99999": /,
    ],
    [
      "url with port 0",
      { url: "redis://h:0" },
      "redis.url",
      /^Cannot use port "0" of Redis URL: expected 1 to 65535$/,
    ],
    [
      "url with db x",
      { url: "redis://h/x" },
      "redis.url",
      /^Cannot use database "x" of Redis URL: expected a whole number$/,
    ],
    [
      "url with db 1e3",
      { url: "redis://h/1e3" },
      "redis.url",
      /^Cannot use database "1e3" of Redis URL: expected a whole number$/,
    ],
    [
      "url with db -1",
      { url: "redis://h/-1" },
      "redis.url",
      /^Cannot use database "-1" of Redis URL: expected a whole number$/,
    ],
    [
      "url with db 1/2",
      { url: "redis://h/1/2" },
      "redis.url",
      /^Cannot use database "1\/2" of Redis URL: expected a whole number$/,
    ],
  ];
  for (const [name, raw, path, detail] of cases) {
    await t.step(name, () => {
      assertConfigError(() => parseRedis(raw, FILE), { path, file: FILE, detail });
      // The same value inside a whole document has the same path.
      assertConfigError(
        () => parseConfig({ redis: raw, groups: { g: { intervals: ["5m"] } } }, { file: FILE }),
        { path, file: FILE, detail },
      );
    });
  }
});

Deno.test("parseRedis() never shows a password in its errors", async (t) => {
  const cases: [string, unknown, string, RegExp][] = [
    [
      "password a list",
      { password: ["s3cret"] },
      "redis.password",
      /^Expected a string, got a list \(value not shown\)$/,
    ],
    [
      "password a mapping",
      { password: { s3cret: 1 } },
      "redis.password",
      /^Expected a string, got object \(value not shown\)$/,
    ],
    ["password true", { password: true }, "redis.password", /^Expected a string, got boolean/],
    ["password null", { password: null }, "redis.password", /^Expected a string, got null/],
    [
      "unparsable URL",
      { url: "redis://u:s3cret@h:port" },
      "redis.url",
      /^Cannot parse Redis URL "redis:\/\/u:\*\*\*@h:port": /,
    ],
    [
      "unparsable URL with / in the password",
      { url: "redis://u:s3/cret@h" },
      "redis.url",
      /^Cannot parse Redis URL "redis:\/\/u:\*\*\*@h": /,
    ],
    [
      "bad scheme",
      { url: "https://u:s3cret@h" },
      "redis.url",
      /^Cannot use Redis URL scheme "https:"/,
    ],
    ["bad db", { url: "redis://u:s3cret@h/x" }, "redis.url", /^Cannot use database "x" /],
  ];
  for (const [name, raw, path, detail] of cases) {
    await t.step(name, () => {
      assertConfigError(() => parseRedis(raw, FILE), { path, file: FILE, detail, hides: "s3" });
    });
  }
});

Deno.test("parseRedis() uses the given path in errors", () => {
  assertConfigError(() => parseRedis({ port: 0 }, undefined, "servers[2]"), {
    path: "servers[2].port",
    detail: /^Expected a whole number from 1 to 65535, got 0$/,
  });
});

// ---------------------------------------------------------------------------------------------
// redactUrl and redisAddress

Deno.test("redactUrl() hides the password of a URL", async (t) => {
  const cases: [string, string][] = [
    ["redis://user:secret@host:6379/0", "redis://user:***@host:6379/0"],
    ["redis://:secret@host", "redis://:***@host"],
    ["rediss://u:secret@h/1", "rediss://u:***@h/1"],
    ["REDIS://u:secret@h", "REDIS://u:***@h"],
    ["redis://u:se@cret@h/0", "redis://u:***@h/0"],
    ["redis://u:se/cret@h", "redis://u:***@h"],
    ["redis://u:se:cret@h", "redis://u:***@h"],
    ["redis://u%40x:secret@h", "redis://u%40x:***@h"],
    ["redis://u@x:secret@h", "redis://u@x:***@h"],
    ["http://u:secret@h", "http://u:***@h"],
    ["redis://u:@h", "redis://u:***@h"],
  ];
  for (const [url, redacted] of cases) {
    await t.step(url, () => {
      assert.equal(redactUrl(url), redacted);
      assert.equal(redactUrl(url).includes("secret"), false);
      assert.equal(redactUrl(url).includes("cret"), false);
    });
  }
});

Deno.test("redactUrl() leaves URLs without a password unchanged", async (t) => {
  const urls = [
    "redis://host:6379/0",
    "redis://user@host:6379/0",
    "redis://[::1]:6379",
    "rediss://h",
    "localhost:6379",
    "not a url",
    "",
  ];
  for (const url of urls) {
    await t.step(JSON.stringify(url), () => {
      assert.equal(redactUrl(url), url);
    });
  }
});

Deno.test("redisAddress() shows scheme, user, host, port and db but never the password", async (t) => {
  const cases: [string, RedisConfig, string][] = [
    ["defaults", DEFAULT_REDIS, "redis://localhost:6379/0"],
    [
      "user and password",
      { ...DEFAULT_REDIS, host: "h", port: 7000, db: 3, username: "alice", password: "secret" },
      "redis://alice@h:7000/3",
    ],
    ["password only", { ...DEFAULT_REDIS, password: "secret" }, "redis://localhost:6379/0"],
    ["IPv6", { ...DEFAULT_REDIS, host: "::1" }, "redis://[::1]:6379/0"],
    [
      "TLS",
      { ...DEFAULT_REDIS, tls: { ...NO_TLS_FILES, rejectUnauthorized: true } },
      "rediss://localhost:6379/0",
    ],
    [
      "user with @ and :",
      { ...DEFAULT_REDIS, username: "a@b:c" },
      "redis://a%40b%3Ac@localhost:6379/0",
    ],
  ];
  for (const [name, config, address] of cases) {
    await t.step(name, () => {
      assert.equal(redisAddress(config), address);
      assert.equal(redisAddress(config).includes("secret"), false);
    });
  }
  await t.step("a parsed URL with a password", () => {
    const config = parseRedis({ url: "rediss://bob:secret@cache.example:6380/5" });
    assert.equal(config.password, "secret");
    assert.equal(redisAddress(config), "rediss://bob@cache.example:6380/5");
  });
});

// ---------------------------------------------------------------------------------------------
// loadConfig

/** Write `text` to a temporary .yml file, run `fn` with its name, remove the file. */
async function withFile<T>(text: string, fn: (file: string) => Promise<T>): Promise<T> {
  const file = await Deno.makeTempFile({ prefix: "ecl_config_test_", suffix: ".yml" });
  try {
    await Deno.writeTextFile(file, text);
    return await fn(file);
  } finally {
    await Deno.remove(file);
  }
}

/** Run `fn` with ECL_REDIS_URL set to `value` (or unset), then restore the previous value. */
async function withRedisUrlEnv<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const previous = Deno.env.get(REDIS_URL_ENV);
  if (value === undefined) Deno.env.delete(REDIS_URL_ENV);
  else Deno.env.set(REDIS_URL_ENV, value);
  try {
    return await fn();
  } finally {
    if (previous === undefined) Deno.env.delete(REDIS_URL_ENV);
    else Deno.env.set(REDIS_URL_ENV, previous);
  }
}

const EXAMPLE_YAML = `\
redis:
  host: redis.example
  port: 6380
  password: 123456
groups:
  requests:
    events: [req1, 2, "a:b"]
    intervals: [5m, 1h]
    sync_limit: 10
  dynamic:
    events:
    auto_declare_events: yes_not_a_bool_in_yaml_1_2
    intervals: ["10s"]
`;

Deno.test("loadConfig() reads, parses and validates a YAML file", async () => {
  const yaml = EXAMPLE_YAML.replace("yes_not_a_bool_in_yaml_1_2", "true");
  await withRedisUrlEnv(undefined, () =>
    withFile(yaml, async (file) => {
      const config = await loadConfig(file);
      assert.equal(config.file, file);
      assert.deepEqual(config.redis, {
        ...DEFAULT_REDIS,
        host: "redis.example",
        port: 6380,
        password: "123456",
      });
      assert.deepEqual(config.groups.get("requests"), {
        name: "requests",
        events: ["req1", "2", "a:b"],
        intervals: [{ name: "5m", seconds: 300 }, { name: "1h", seconds: 3600 }],
        autoDeclareEvents: false,
        syncIntervalMs: undefined,
        syncLimit: 10,
        maxPendingKeys: 1_000_000,
      });
      assert.deepEqual(config.groups.get("dynamic"), {
        name: "dynamic",
        events: [],
        intervals: [{ name: "10s", seconds: 10 }],
        autoDeclareEvents: true,
        syncIntervalMs: undefined,
        syncLimit: undefined,
        maxPendingKeys: 1_000_000,
      });
    }));
});

Deno.test("loadConfig() names the file and the path of a bad value", async () => {
  await withFile(EXAMPLE_YAML, async (file) => {
    await assertConfigErrorAsync(() => loadConfig(file), {
      path: "groups.dynamic.auto_declare_events",
      file,
      detail: /^Expected true or false, got "yes_not_a_bool_in_yaml_1_2"$/,
    });
  });
  await withFile("groups:\n  r:\n    intervals: [5m, 5x]\n", async (file) => {
    await assertConfigErrorAsync(() => loadConfig(file), {
      path: "groups.r.intervals[1]",
      file,
      detail: /^Cannot parse interval "5x": /,
    });
  });
});

Deno.test("loadConfig() reports a missing file", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/missing.yml`;
  try {
    await assert.rejects(() => loadConfig(file), (error: unknown) => {
      checkConfigError(error, {
        path: "",
        file,
        detail: /^Cannot read config file: no such file$/,
      });
      assert.equal(
        (error as ConfigError).message,
        `${file}: Cannot read config file: no such file`,
      );
      assert.ok((error as ConfigError).cause instanceof Error);
      return true;
    });
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("loadConfig() reports a directory as unreadable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assertConfigErrorAsync(() => loadConfig(dir), {
      path: "",
      file: dir,
      detail: /^Cannot read config file: .*EISDIR/,
    });
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("loadConfig() reports YAML errors with line and column on one line", async (t) => {
  const cases: [string, string, RegExp][] = [
    [
      "unclosed flow sequence",
      "groups:\n  requests:\n    intervals: [5m\n",
      /^Cannot parse YAML at line 4, column 1: Flow sequence in block collection must be sufficiently indented and end with a \]$/,
    ],
    [
      "duplicate keys",
      "groups:\n  requests:\n    intervals: [5m]\n  requests:\n    intervals: [1h]\n",
      /^Cannot parse YAML at line 4, column 3: Map keys must be unique$/,
    ],
    [
      "duplicate top-level keys",
      "redis: {}\nredis: {}\n",
      /^Cannot parse YAML at line 2, column 1: Map keys must be unique$/,
    ],
    [
      "a tab as indentation",
      "groups:\n  requests:\n\tintervals: [5m]\n",
      /^Cannot parse YAML at line 3, column 1: Tabs are not allowed as indentation$/,
    ],
    [
      "an unclosed quote",
      'groups:\n  r:\n    intervals: [5m]\n    events: ["a\n',
      /^Cannot parse YAML at line 5, column 1: Missing closing "quote$/,
    ],
    [
      "two documents",
      "groups: {}\n---\ngroups: {}\n",
      /^Cannot parse YAML at line 2, column 1: Source contains multiple documents/,
    ],
    [
      "an alias without an anchor",
      "groups: {a: *nope}\n",
      /^Cannot parse YAML: Unresolved alias \(the anchor must be set before the alias\): nope$/,
    ],
  ];
  for (const [name, yaml, detail] of cases) {
    await t.step(name, async () => {
      await withFile(yaml, async (file) => {
        await assertConfigErrorAsync(() => loadConfig(file), { path: "", file, detail });
      });
    });
  }
});

Deno.test("loadConfig() refuses a YAML alias bomb with a ConfigError", async () => {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (const [name, previous] of [["b", "a"], ["c", "b"], ["d", "c"], ["e", "d"]]) {
    lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(",")}]`);
  }
  await withFile(lines.join("\n") + "\n", async (file) => {
    await assertConfigErrorAsync(() => loadConfig(file), {
      path: "",
      file,
      detail: /^Cannot parse YAML: Excessive alias count indicates a resource exhaustion attack$/,
    });
  });
});

Deno.test("loadConfig() rejects an empty file", async () => {
  for (const text of ["", "# only a comment\n"]) {
    await withFile(text, async (file) => {
      await assertConfigErrorAsync(() => loadConfig(file), {
        path: "",
        file,
        detail: /^Expected a mapping, got nothing$/,
      });
    });
  }
});

Deno.test("loadConfig() lets ECL_REDIS_URL replace the redis: section", async (t) => {
  const yaml = "redis:\n  host: file-host\n  port: 7000\ngroups:\n  g:\n    intervals: [5m]\n";
  await t.step("set", async () => {
    await withRedisUrlEnv("rediss://u:pw@env-host:6390/4", () =>
      withFile(yaml, async (file) => {
        assert.equal(redisUrlFromEnv(), "rediss://u:pw@env-host:6390/4");
        const config = await loadConfig(file);
        assert.deepEqual(config.redis, {
          host: "env-host",
          port: 6390,
          db: 4,
          username: "u",
          password: "pw",
          tls: { ...NO_TLS_FILES, rejectUnauthorized: true },
        });
      }));
  });
  await t.step("unset", async () => {
    await withRedisUrlEnv(undefined, () =>
      withFile(yaml, async (file) => {
        assert.equal(redisUrlFromEnv(), undefined);
        const config = await loadConfig(file);
        assert.equal(config.redis.host, "file-host");
        assert.equal(config.redis.port, 7000);
      }));
  });
  await t.step("empty", async () => {
    await withRedisUrlEnv("", () =>
      withFile(yaml, async (file) => {
        assert.equal(redisUrlFromEnv(), undefined);
        assert.equal((await loadConfig(file)).redis.host, "file-host");
      }));
  });
  await t.step("bad", async () => {
    await withRedisUrlEnv("ftp://u:s3cret@h", () =>
      withFile(yaml, async (file) => {
        await assertConfigErrorAsync(() => loadConfig(file), {
          path: `${REDIS_URL_ENV}.url`,
          detail: /^Cannot use Redis URL scheme "ftp:": expected redis: or rediss:$/,
          hides: "s3cret",
        });
      }));
  });
});

Deno.test("parseConfig() checks max_pending_keys", async (t) => {
  await t.step("default", () => {
    const config = parseConfig({ groups: { g: { intervals: ["5m"] } } });
    assert.equal(config.groups.get("g")!.maxPendingKeys, 1_000_000);
  });
  await t.step("set", () => {
    const config = parseConfig({ groups: { g: { intervals: ["5m"], max_pending_keys: 50 } } });
    assert.equal(config.groups.get("g")!.maxPendingKeys, 50);
  });
  for (const bad of [0, -1, 1.5, "10"]) {
    await t.step(`rejects ${JSON.stringify(bad)}`, () => {
      assertConfigError(
        () =>
          parseConfig({ groups: { g: { intervals: ["5m"], max_pending_keys: bad } } }, {
            file: FILE,
          }),
        {
          path: "groups.g.max_pending_keys",
          file: FILE,
          detail: /^Expected a whole number from 1 to 9007199254740991, got /,
        },
      );
    });
  }
});

Deno.test("parseRedis() reads a sentinel section", async (t) => {
  await t.step("host:port strings and mappings", () => {
    const redis = parseRedis({
      sentinel: {
        name: "mymaster",
        nodes: ["10.0.0.1:26380", "sentinel-2", { host: "::1", port: 5 }],
      },
      db: 2,
      password: "pw",
    });
    assert.deepEqual(redis.sentinel, {
      name: "mymaster",
      nodes: [
        { host: "10.0.0.1", port: 26380 },
        { host: "sentinel-2", port: 26379 },
        { host: "::1", port: 5 },
      ],
      username: undefined,
      password: undefined,
    });
    assert.equal(redis.db, 2);
    assert.equal(redis.password, "pw");
    assert.equal(
      redisAddress(redis),
      "redis-sentinel://10.0.0.1:26380,sentinel-2:26379,[::1]:5/mymaster/2",
    );
  });
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    [
      "no nodes",
      { name: "m", nodes: [] },
      "redis.sentinel.nodes",
      /^Expected at least one node$/,
    ],
    [
      "bad node",
      { name: "m", nodes: ["h:99999"] },
      "redis.sentinel.nodes[0]",
      /^Cannot parse address "h:99999"/,
    ],
    ["no name", { nodes: ["h"] }, "redis.sentinel.name", /^Expected a string, got nothing$/],
    [
      "unknown key",
      { name: "m", nodes: ["h"], master: 1 },
      "redis.sentinel.master",
      /^Unknown key "master"/,
    ],
  ];
  for (const [name, sentinel, path, detail] of cases) {
    await t.step(name, () => {
      assertConfigError(() => parseRedis({ sentinel }, FILE), { path, file: FILE, detail });
    });
  }
  await t.step("not with host", () => {
    assertConfigError(
      () => parseRedis({ host: "h", sentinel: { name: "m", nodes: ["h"] } }, FILE),
      {
        path: "redis.host",
        file: FILE,
        detail: /^Cannot combine "host" with "sentinel"/,
      },
    );
  });
});

Deno.test("parseRedis() reads a cluster section", async (t) => {
  await t.step("nodes", () => {
    const redis = parseRedis({
      cluster: { nodes: ["10.0.0.1:7000", { host: "h", port: 7001 }, "h2"] },
    });
    assert.deepEqual(redis.cluster, {
      nodes: [{ host: "10.0.0.1", port: 7000 }, { host: "h", port: 7001 }, {
        host: "h2",
        port: 6379,
      }],
    });
    assert.equal(redisAddress(redis), "redis-cluster://10.0.0.1:7000,h:7001,h2:6379");
  });
  await t.step("database other than 0", () => {
    assertConfigError(() => parseRedis({ cluster: { nodes: ["h"] }, db: 3 }, FILE), {
      path: "redis.db",
      file: FILE,
      detail: /^Cannot use database 3 in a Redis Cluster: only 0$/,
    });
  });
  await t.step("not with sentinel", () => {
    assertConfigError(
      () => parseRedis({ cluster: { nodes: ["h"] }, sentinel: { name: "m", nodes: ["h"] } }, FILE),
      { path: "redis.sentinel", file: FILE, detail: /^Cannot combine "sentinel" with "cluster"$/ },
    );
  });
});

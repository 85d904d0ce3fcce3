/**
 * Pure tests of configuration validation (parseConfig, parseGroups) and of loadConfig on temporary
 * files (the `redis:` section: redis_config_test.ts; names: ids_test.ts). Every error path checks the class, `.path`, `.file` and a one-line message
 * that names the file, the path and the bad value.
 */
import assert from "node:assert/strict";
import { member } from "../lib/_config_checker.ts";
import { type GroupConfig, loadConfig, parseConfig, parseGroups } from "../lib/config.ts";
import type { ConfigError } from "../lib/errors.ts";
import {
  DEFAULT_REDIS_DB,
  DEFAULT_REDIS_HOST,
  DEFAULT_REDIS_PORT,
  REDIS_URL_ENV,
  type RedisConfig,
  redisUrlFromEnv,
} from "../lib/redis_config.ts";
import { assertConfigError, assertConfigErrorAsync, checkConfigError } from "./_config_error.ts";

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
    totals: false,
    layout: "python",
    history: 1,
    shards: 1,
  });
  assert.deepEqual(config.groups.get("errors"), {
    name: "errors",
    events: [],
    intervals: [{ name: "10s", seconds: 10 }],
    autoDeclareEvents: false,
    syncIntervalMs: undefined,
    syncLimit: undefined,
    maxPendingKeys: 1_000_000,
    totals: false,
    layout: "python",
    history: 1,
    shards: 1,
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

Deno.test("parseConfig() rejects a group spec that is not a mapping or has unknown keys", async (t) => {
  const cases: [string, unknown, string, RegExp][] = [
    ["a string", "5m", "groups.requests", /^Expected a mapping, got "5m"$/],
    ["null", null, "groups.requests", /^Expected a mapping, got null$/],
    ["a list", ["5m"], "groups.requests", /^Expected a mapping, got \["5m"\]$/],
    [
      "unknown key interval",
      { interval: ["5m"] },
      "groups.requests.interval",
      /^Unknown key "interval": expected one of events, intervals, auto_declare_events, sync_interval, sync_limit, max_pending_keys, totals, layout, history, max_events$/,
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
        totals: false,
        layout: "python",
        history: 1,
        shards: 1,
      });
      assert.deepEqual(config.groups.get("dynamic"), {
        name: "dynamic",
        events: [],
        intervals: [{ name: "10s", seconds: 10 }],
        autoDeclareEvents: true,
        syncIntervalMs: undefined,
        syncLimit: undefined,
        maxPendingKeys: 1_000_000,
        totals: false,
        layout: "python",
        history: 1,
        shards: 1,
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
      detail: /^Cannot read config file: is a directory$/,
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
      /^Cannot parse YAML at line 4, column 1: deficient indentation$/,
    ],
    [
      "duplicate keys",
      "groups:\n  requests:\n    intervals: [5m]\n  requests:\n    intervals: [1h]\n",
      /^Cannot parse YAML at line 4, column 3: duplicated mapping key$/,
    ],
    [
      "duplicate top-level keys",
      "redis: {}\nredis: {}\n",
      /^Cannot parse YAML at line 2, column 1: duplicated mapping key$/,
    ],
    [
      "a tab as indentation",
      "groups:\n  requests:\n\tintervals: [5m]\n",
      /^Cannot parse YAML at line 3, column 1: tab characters must not be used in indentation$/,
    ],
    [
      "an unclosed quote",
      'groups:\n  r:\n    intervals: [5m]\n    events: ["a\n',
      /^Cannot parse YAML at line 5, column 1: deficient indentation$/,
    ],
    [
      "two documents",
      "groups: {}\n---\ngroups: {}\n",
      /^Cannot parse YAML: Expected one document, found 2 \(separated by ---\)$/,
    ],
    [
      "an alias without an anchor",
      "groups: {a: *nope}\n",
      /^Cannot parse YAML at line 1, column 14: unidentified alias "nope"$/,
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

Deno.test("member() writes YAML paths: plain keys after a dot, others quoted in brackets", () => {
  assert.equal(member("", "redis"), "redis");
  assert.equal(member("", "a.b"), '["a.b"]');
  assert.equal(member("groups", "web"), "groups.web");
  assert.equal(member("groups", "a b"), 'groups["a b"]');
  assert.equal(member('groups["a b"]', "sync_limit"), 'groups["a b"].sync_limit');
});

Deno.test("layout: python by default; periods with history and max_events sizing the shards", () => {
  const parse = (group: Record<string, unknown>) =>
    parseConfig({ groups: { g: { intervals: ["5m"], ...group } } }).groups.get("g")!;
  const plain = parse({});
  assert.equal(plain.layout, "python");
  assert.equal(plain.history, 1);
  const periods = parse({ layout: "periods", history: 288 });
  assert.deepEqual([periods.layout, periods.history, periods.shards], ["periods", 288, 1]);
  // Auto-declared: max_events (default 8,192 → 1 shard); 100,000 → 16 shards of ≤ 8,192.
  assert.equal(parse({ layout: "periods", auto_declare_events: true }).shards, 1);
  assert.equal(
    parse({ layout: "periods", auto_declare_events: true, max_events: 100_000 }).shards,
    16,
  );
  // Predeclared only: the event list sizes it.
  const many = Array.from({ length: 9000 }, (_, i) => `e${i}`);
  assert.equal(parse({ layout: "periods", events: many }).shards, 2);
});

Deno.test("layout, history, max_events: a bad value is a one-line ConfigError naming it", () => {
  const cases: [Record<string, unknown>, string, RegExp, string][] = [
    [
      { layout: "hashes" },
      "layout",
      /^Unknown layout "hashes": expected one of python, periods$/,
      "hashes",
    ],
    [{ layout: 3 }, "layout", /^Expected a string, got 3$/, "3"],
    [{ layout: "periods", history: 0 }, "history", /^Expected a whole number from 1 to/, "0"],
    [{ layout: "periods", history: 1.5 }, "history", /^Expected a whole number from 1 to/, "1.5"],
    [{ layout: "periods", history: "3" }, "history", /^Expected a whole number from 1 to/, '"3"'],
    [{ history: 3 }, "history", /^Cannot use history 3 with layout "python"/, "3"],
    [{ max_events: 10 }, "max_events", /^Cannot use max_events 10 with layout "python"/, "10"],
    [{ layout: "periods", max_events: 0 }, "max_events", /^Expected a whole number from 1/, "0"],
  ];
  for (const [extra, key, detail, shows] of cases) {
    assertConfigError(
      () => parseConfig({ groups: { g: { intervals: ["5m"], ...extra } } }, { file: FILE }),
      { path: `groups.g.${key}`, file: FILE, detail, shows },
    );
  }
});

Deno.test("a Redis Cluster config with a python-layout group is a one-line ConfigError", () => {
  const redis = { cluster: { nodes: ["127.0.0.1:7000"] } };
  assertConfigError(
    () =>
      parseConfig({
        redis,
        groups: { a: { intervals: ["5m"], layout: "periods" }, b: { intervals: ["5m"] } },
      }, { file: FILE }),
    {
      path: "groups.b.layout",
      file: FILE,
      detail: /^Cannot use layout "python" in a Redis Cluster: .*set layout: periods$/,
    },
  );
  const ok = parseConfig({ redis, groups: { a: { intervals: ["5m"], layout: "periods" } } });
  assert.equal(ok.groups.get("a")!.layout, "periods");
});

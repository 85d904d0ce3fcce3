/**
 * Pure tests of the `redis:` section (parseRedis), of redactUrl and of redisAddress. Every error
 * path checks the class, `.path`, `.file` and a one-line message that names the file, the path and
 * the bad value, and never the password.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../lib/config.ts";
import { parseRedis, redactUrl, redisAddress, type RedisConfig } from "../lib/redis_config.ts";
import { assertConfigError } from "./_config_error.ts";

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

/**
 * Hostile and bad input: event IDs and group names full of glob metacharacters, separators,
 * whitespace and astral-plane unicode; counts that are not whole numbers; values in Redis that
 * are not counts. Every such input is either stored and read back exactly, under exactly its own
 * key, or refused with one warning (library) or one error line (CLI) — it never touches another
 * group's or event's counters.
 */
import assert from "node:assert/strict";
import { EventCountLogger } from "../mod.ts";
import { type GroupsSpec, parseGroups } from "../lib/config.ts";
import { parseRedis } from "../lib/redis_config.ts";
import { parseKey } from "../lib/keys.ts";
import { Store } from "../lib/store.ts";
import { runCli, writeConfig } from "./_process.ts";
import { type RawClient, type RedisServer, withRedis } from "./_redis.ts";
import { within } from "./_wait.ts";

/** Event IDs that would break a glob, a key parser, a line format or a UTF-16 sort. */
const HOSTILE_IDS: readonly string[] = [
  "*",
  "?",
  "[",
  "]",
  "\\",
  "[a-z]*",
  "a*",
  "a?c",
  "[^@]*",
  "\\*",
  "\\[x]",
  ":",
  "::",
  "a:b",
  "x:1m:cur:y",
  " ",
  " lead",
  "trail ",
  "a b",
  "\t",
  "tab\there",
  "a@b",
  "é",
  "e\u0301", // e + combining acute: not the same ID as "é"
  "ﬃ",
  "Ａ", // U+FF21: before every astral character by code point, after them in UTF-16 order
  "😀",
  "a😀b",
  "𝄞",
  "\u{10FFFF}",
  "中文",
  "عربي",
  "*?[]\\: \t😀",
  "x".repeat(10_240),
];

/** Order by code point, as Python's `sorted()` does. */
function byCodePoint(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** Every key in Redis with its value, except the writers' batch numbers (`…:cur:@w:…`). */
async function snapshot(raw: RawClient): Promise<Record<string, string | null>> {
  const keys = (await raw.keys("*")).filter((key) => !key.includes(":@w:")).sort();
  const values = keys.length === 0 ? [] : await raw.mGet(keys);
  return Object.fromEntries(keys.map((key, index) => [key, values[index]]));
}

/** A YAML config for `server` with `groups` (names and IDs quoted as JSON, which YAML reads). */
function yamlConfig(server: RedisServer, groups: GroupsSpec): Promise<string> {
  let yaml = `redis:\n  host: 127.0.0.1\n  port: ${server.port}\ngroups:\n`;
  for (const [name, spec] of Object.entries(groups)) {
    yaml += `  ${JSON.stringify(name)}: ${JSON.stringify(spec)}\n`;
  }
  return writeConfig(yaml);
}

function collectWarnings(): { warnings: string[]; onWarning: (message: string) => void } {
  const warnings: string[] = [];
  return { warnings, onWarning: (message) => warnings.push(message) };
}

Deno.test("hostile event IDs are stored under exactly their key and read back exactly", () =>
  withRedis(async (server) => {
    const groups: GroupsSpec = {
      direct: { auto_declare_events: true, intervals: ["1m", "1h"] },
      cached: { auto_declare_events: true, intervals: ["1m", "1h"], sync_interval: 3600 },
    };
    const { warnings, onWarning } = collectWarnings();
    const ecl = new EventCountLogger(groups, server.spec, { onWarning });
    const expected: Record<string, number> = {};
    HOSTILE_IDS.forEach((id, index) => expected[id] = index + 2);
    for (const name of ["direct", "cached"]) {
      const group = ecl.getGroup(name)!;
      for (const [index, id] of HOSTILE_IDS.entries()) {
        assert.equal(group.log(id), true, JSON.stringify(id));
        assert.equal(group.log(id, index + 1), true, JSON.stringify(id));
      }
    }
    await within("end of ecl.flush()", ecl.flush());
    assert.deepEqual(warnings, []);

    // Exactly `<group>:<interval>:cur:<id>`, nothing else (no master: no timestamps either).
    const raw = await server.client();
    const stored = await snapshot(raw);
    const keys: Record<string, string> = {};
    for (const name of ["direct", "cached"]) {
      for (const interval of ["1m", "1h"]) {
        for (const id of HOSTILE_IDS) keys[`${name}:${interval}:cur:${id}`] = String(expected[id]);
      }
    }
    assert.deepEqual(stored, keys);
    for (const key of Object.keys(stored)) {
      const parts = parseKey(key)!;
      assert.ok(HOSTILE_IDS.includes(parts.event), `${JSON.stringify(key)} parses back`);
    }

    for (const name of ["direct", "cached"]) {
      const group = ecl.getGroup(name)!;
      assert.deepEqual(
        await within("end of group.getCounts()", group.getCounts("1m", { current: true })),
        expected,
      );
      assert.deepEqual(
        await within("end of group.getCounts()", group.getCounts("1h", { current: true })),
        expected,
      );
      for (const id of HOSTILE_IDS) {
        assert.equal(await group.getCurrentCount(id, "1h"), expected[id], JSON.stringify(id));
        assert.deepEqual(await group.getCurrentCounts(id), {
          "1m": expected[id],
          "1h": expected[id],
        });
      }
      // An ID that is a glob matching every other ID still reads only its own counter.
      assert.equal(await group.getCurrentCount("*", "1m"), expected["*"]);
      assert.equal(await group.getCurrentCount("[^@]", "1m"), 0);
    }
    await within("end of ecl.close()", ecl.close());

    // ecl read: JSON and text, sorted by code point (Python's sorted()), not by UTF-16 unit.
    const config = await yamlConfig(server, groups);
    const sorted = [...HOSTILE_IDS].sort(byCodePoint);
    assert.notDeepEqual(sorted, [...HOSTILE_IDS].sort(), "the IDs tell the two orders apart");
    for (const name of ["direct", "cached"]) {
      const json = await runCli([
        "read",
        config,
        "-g",
        name,
        "-i",
        "1m",
        "--current",
        "-f",
        "json",
      ]);
      assert.equal(json.code, 0, json.stderr);
      assert.equal(json.stderr, "");
      const counts = JSON.parse(json.stdout).current.counts;
      assert.deepEqual(counts, expected);
      assert.deepEqual(Object.keys(counts), sorted);
    }
    const text = await runCli(["read", config, "-g", "direct", "-i", "1h", "--current"]);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stderr, "");
    assert.equal(text.stdout, sorted.map((id) => `${id}:${expected[id]}\n`).join(""));
    await Deno.remove(config);
  }));

Deno.test("ecl log stores a hostile event ID under exactly its key", () =>
  withRedis(async (server) => {
    const config = await yamlConfig(server, {
      g: { auto_declare_events: true, intervals: ["1m"] },
    });
    const id = "*?[x]\\: \té😀" + "y".repeat(10_000);
    const result = await runCli(["log", config, "g", id, "3"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    assert.deepEqual(await snapshot(await server.client()), { [`g:1m:cur:${id}`]: "3" });
    await Deno.remove(config);
  }));

/** Group names that are globs of each other: `g?` matches `gx`, `g*` matches all, `g[x]` is `gx`. */
const HOSTILE_GROUPS: readonly string[] = [
  "g",
  "gx",
  "gy",
  "g?",
  "g*",
  "g[x]",
  "g[",
  "g]",
  "g\\",
  "g\\x",
  "g x",
  "g\t",
  "gé",
  "g😀",
  "*",
  "?",
  "[",
];

/** What a group's counters are after logging (see the test): distinct per group. */
function loggedCounts(index: number, name: string): Record<string, number> {
  return { e: index + 1, shared: 100 + index, [`only ${name}`]: 1000 + index };
}

Deno.test("groups named like globs of each other never see or change each other's counters", () =>
  withRedis(async (server) => {
    const spec: Record<
      string,
      { events: string[]; auto_declare_events: true; intervals: string[] }
    > = {};
    for (const name of HOSTILE_GROUPS) {
      spec[name] = { events: ["e"], auto_declare_events: true, intervals: ["1m"] };
    }
    const { warnings, onWarning } = collectWarnings();
    const ecl = new EventCountLogger(spec, server.spec, { onWarning });
    for (const [index, name] of HOSTILE_GROUPS.entries()) {
      const group = ecl.getGroup(name)!;
      for (const [id, count] of Object.entries(loggedCounts(index, name))) {
        assert.equal(group.log(id, count), true);
      }
    }
    await within("end of ecl.flush()", ecl.flush());
    for (const [index, name] of HOSTILE_GROUPS.entries()) {
      const counts = await ecl.getGroup(name)!.getCounts("1m", { current: true });
      assert.deepEqual(counts, loggedCounts(index, name), `group ${JSON.stringify(name)}`);
      assert.deepEqual(await ecl.getGroup(name)!.getCounts("1m"), { e: 0 });
    }

    // Rotate one group at a time: only that group's keys change, every other stays as it was.
    const raw = await server.client();
    const config = parseGroups(spec);
    const store = new Store(parseRedis(server.spec));
    const boundary = Math.floor(Date.now() / 60_000) * 60;
    const rotated = new Set<string>();
    for (const name of ["g?", "g*", "g[x]", "*", "?", "[", "g\\", ...HOSTILE_GROUPS]) {
      if (rotated.has(name)) continue;
      const before = await snapshot(raw);
      const group = config.get(name)!;
      assert.equal(await store.rotate(group, group.intervals[0], boundary), 3, name);
      rotated.add(name);
      const after = await snapshot(raw);
      const mine = (key: string) => parseKey(key)?.group === name;
      const others = (state: Record<string, string | null>) =>
        Object.fromEntries(Object.entries(state).filter(([key]) => !mine(key)));
      assert.deepEqual(others(after), others(before), `rotating ${JSON.stringify(name)}`);
      const index = HOSTILE_GROUPS.indexOf(name);
      const own: Record<string, string> = {
        [`${name}:1m:cur:@ts`]: String(boundary),
        [`${name}:1m:cur:e`]: "0",
      };
      for (const [id, count] of Object.entries(loggedCounts(index, name))) {
        own[`${name}:1m:last:${id}`] = String(count);
      }
      assert.deepEqual(Object.fromEntries(Object.entries(after).filter(([key]) => mine(key))), own);
      // Every group reads its own counters only: the rotated ones in last, the others in cur.
      for (const [i, other] of HOSTILE_GROUPS.entries()) {
        const slot = await ecl.getGroup(other)!.getCounts("1m");
        assert.deepEqual(
          slot,
          rotated.has(other) ? loggedCounts(i, other) : { e: 0 },
          `group ${JSON.stringify(other)} after rotating ${JSON.stringify(name)}`,
        );
      }
    }
    await within("end of store.close()", store.close());
    await within("end of ecl.close()", ecl.close());
    assert.deepEqual(warnings, []);

    // ecl read shows each group's own counts.
    const file = await yamlConfig(server, spec);
    const names = ["g", "gx", "g?", "g*", "g[x]", "g\\", "*", "["];
    const results = await Promise.all(
      names.map((name) => runCli(["read", file, "-g", name, "-f", "json"])),
    );
    results.forEach((result, k) => {
      const name = names[k];
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, "");
      const json = JSON.parse(result.stdout);
      assert.equal(json.group, name);
      assert.deepEqual(json.last.counts, loggedCounts(HOSTILE_GROUPS.indexOf(name), name));
    });
    await Deno.remove(file);
  }));

Deno.test("an event ID shaped like a key never touches another group's keys", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    await raw.set("x:1m:cur:y", "7");
    const spec = {
      a: { auto_declare_events: true, intervals: ["1m"] },
      x: { auto_declare_events: true, intervals: ["1m"] },
    };
    const ids = ["x:1m:cur:y", "x:1m:last:y", "1m:cur:y", ":1m:cur:y", "cur:y", "1m:last:y", "y"];
    const { warnings, onWarning } = collectWarnings();
    const ecl = new EventCountLogger(spec, server.spec, { onWarning });
    const a = ecl.getGroup("a")!;
    ids.forEach((id, index) => assert.equal(a.log(id, index + 1), true));
    await within("end of ecl.flush()", ecl.flush());
    const expected: Record<string, string> = { "x:1m:cur:y": "7" };
    ids.forEach((id, index) => expected[`a:1m:cur:${id}`] = String(index + 1));
    assert.deepEqual(await snapshot(raw), expected);
    assert.deepEqual(await ecl.getGroup("x")!.getCounts("1m", { current: true }), { y: 7 });
    assert.deepEqual(
      await within("end of a.getCounts()", a.getCounts("1m", { current: true })),
      Object.fromEntries(ids.map((id, index) => [id, index + 1])),
    );
    assert.equal(await a.getCurrentCount("x:1m:cur:y", "1m"), 1);

    // Rotating a moves only a's keys; x's counter stays in x:1m:cur:y.
    const config = parseGroups(spec);
    const store = new Store(parseRedis(server.spec));
    const boundary = Math.floor(Date.now() / 60_000) * 60;
    assert.equal(await store.rotate(config.get("a")!, config.get("a")!.intervals[0], boundary), 7);
    const afterA: Record<string, string> = {
      "x:1m:cur:y": "7",
      "a:1m:cur:@ts": String(boundary),
    };
    ids.forEach((id, index) => afterA[`a:1m:last:${id}`] = String(index + 1));
    assert.deepEqual(await snapshot(raw), afterA);
    assert.equal(await store.rotate(config.get("x")!, config.get("x")!.intervals[0], boundary), 1);
    const { ["x:1m:cur:y"]: _moved, ...rest } = afterA;
    assert.deepEqual(await snapshot(raw), {
      ...rest,
      "x:1m:last:y": "7",
      "x:1m:cur:@ts": String(boundary),
    });
    assert.deepEqual(await ecl.getGroup("x")!.getCounts("1m"), { y: 7 });
    assert.equal(await a.getLastCount("x:1m:cur:y", "1m"), 1);
    await within("end of store.close()", store.close());
    await within("end of ecl.close()", ecl.close());
    assert.deepEqual(warnings, []);
  }));

/** Counts that are not whole numbers from 1 to 2^53 - 1. */
const BAD_COUNTS: readonly unknown[] = [
  1.5,
  0,
  -1,
  NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  "5",
  null,
];

Deno.test("log() refuses counts that are not whole numbers, one warning per value", () =>
  withRedis(async (server) => {
    const { warnings, onWarning } = collectWarnings();
    const ecl = new EventCountLogger(
      {
        direct: { events: ["a"], auto_declare_events: true, intervals: ["1m"] },
        cached: { events: ["a"], intervals: ["1m"], sync_interval: 3600, sync_limit: 1 },
      },
      server.spec,
      { onWarning },
    );
    for (const name of ["direct", "cached"]) {
      const group = ecl.getGroup(name)!;
      for (let round = 0; round < 2; round++) {
        for (const count of BAD_COUNTS) {
          assert.equal(group.log("a", count as number), false, `${name}: ${String(count)}`);
          assert.equal(group.log("new", count as number), false, `${name}: ${String(count)}`);
        }
      }
      assert.equal(group.pendingSize, 0);
    }
    await within("end of ecl.flush()", ecl.flush());
    // "new" is not declared in the cached group: one warning for it, before the count is checked.
    const countWarnings = warnings.filter((w) => w.startsWith("Cannot log count"));
    assert.equal(countWarnings.length, 2 * BAD_COUNTS.length, warnings.join("\n"));
    assert.deepEqual(warnings.filter((w) => !w.startsWith("Cannot log count")), [
      'Cannot log event "new" in group "cached": not declared, and the group does not auto-declare events',
    ]);
    for (const [k, count] of BAD_COUNTS.entries()) {
      assert.match(countWarnings[k], new RegExp(`^Cannot log count ${String(count)} of event "a"`));
    }
    assert.deepEqual(await snapshot(await server.client()), {});
    await within("end of ecl.close()", ecl.close());
  }));

Deno.test("ecl log refuses counts that are not whole numbers: exit 2, one line, nothing written", () =>
  withRedis(async (server) => {
    const config = await yamlConfig(server, {
      g: { events: ["e"], auto_declare_events: true, intervals: ["1m"] },
    });
    const counts = ["1.5", "-1", "0", "abc", "9007199254740992", "99999999999999999999999"];
    const results = await Promise.all(
      counts.map((count) => runCli(["log", config, "g", "e", count])),
    );
    results.forEach((result, k) => {
      assert.equal(result.code, 2, JSON.stringify(result));
      assert.equal(result.stdout, "");
      assert.equal(
        result.stderr,
        `ERROR: Cannot log count ${
          JSON.stringify(counts[k])
        }: expected a whole number from 1 to 9007199254740991\n`,
      );
    });
    assert.deepEqual(await snapshot(await server.client()), {});
    await Deno.remove(config);
  }));

Deno.test("a value in Redis that is not a count: ecl read skips it with one warning", () =>
  withRedis(async (server) => {
    const spec = { g: { events: ["a", "b"], auto_declare_events: true, intervals: ["5m"] } };
    const config = await yamlConfig(server, spec);
    const raw = await server.client();
    await raw.mSet({ "g:5m:last:a": "hello", "g:5m:last:b": "3", "g:5m:last:c": "4" });
    const warning =
      'ecl: warning: Skipping event "a" of g:5m:last: its value "hello" is not a count\n';
    const text = await runCli(["read", config, "-g", "g"]);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout, "b:3\nc:4\n");
    assert.equal(text.stderr, warning);
    const json = await runCli(["read", config, "-g", "g", "-f", "json"]);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout).last.counts, { b: 3, c: 4 });
    assert.equal(json.stderr, warning);

    // The library: no exception; the other events are exact, the event with the bad value is left
    // out of the result (though "a" is predeclared), with one warning naming it.
    // getLastCount() reads it as 0.
    const { warnings, onWarning } = collectWarnings();
    const ecl = new EventCountLogger(spec, server.spec, { onWarning });
    const group = ecl.getGroup("g")!;
    assert.deepEqual(await within("end of group.getCounts()", group.getCounts("5m")), {
      b: 3,
      c: 4,
    });
    assert.equal(await group.getLastCount("a", "5m"), 0);
    assert.equal(await group.getLastCount("b", "5m"), 3);
    await within("end of ecl.close()", ecl.close());
    assert.deepEqual(warnings, [
      'Skipping event "a" of g:5m:last: its value "hello" is not a count',
    ]);
    assert.equal(await raw.get("g:5m:last:a"), "hello");
    await Deno.remove(config);
  }));

// lib/scripts.ts FLUSH_SCRIPT adds with redis.pcall('INCRBY') and returns the events it could not
// add, so a counter that is not an integer neither fails the batch nor leaves it half-written.
for (const mode of ["direct", "cached"] as const) {
  Deno.test(`a cur value that is not a count stays untouched, the rest of the flush lands (${mode})`, () =>
    withRedis(async (server) => {
      const raw = await server.client();
      await raw.set("g:1m:cur:a", "hello");
      const { warnings, onWarning } = collectWarnings();
      const cached = mode === "cached" ? { sync_interval: 3600 } : {};
      const ecl = new EventCountLogger(
        {
          g: { events: ["a", "b"], auto_declare_events: true, intervals: ["1m", "5m"], ...cached },
        },
        server.spec,
        { onWarning },
      );
      const group = ecl.getGroup("g")!;
      assert.equal(group.log("a", 2), true);
      assert.equal(group.log("b", 3), true);
      assert.equal(group.log("c", 4), true);
      await within("end of ecl.flush()", ecl.flush());
      assert.deepEqual(await snapshot(raw), {
        "g:1m:cur:a": "hello",
        "g:1m:cur:b": "3",
        "g:1m:cur:c": "4",
        "g:5m:cur:a": "2",
        "g:5m:cur:b": "3",
        "g:5m:cur:c": "4",
      });
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(warnings[0], /^Cannot add 2 to event "a" of group "g", interval 1m: /);
      assert.deepEqual(
        await within("end of group.getCounts()", group.getCounts("1m", { current: true })),
        { b: 3, c: 4 },
      );
      assert.equal(group.pendingSize, 0);
      await within("end of ecl.close()", ecl.close());
    }));
}

Deno.test("IDs and group names with half a surrogate pair are refused: they would share a key", () =>
  withRedis(async (server) => {
    // Redis keys are UTF-8: "\uD800", "\uDC00" and "\uFFFD" would all be stored as "…:\uFFFD".
    const { warnings, onWarning } = collectWarnings();
    const ecl = new EventCountLogger(
      { d: { auto_declare_events: true, intervals: ["1m"] } },
      server.spec,
      { onWarning },
    );
    const d = ecl.getGroup("d")!;
    for (const id of ["\uD800", "\uDC00", "a\uD83D", "\uDE00b"]) {
      assert.equal(d.log(id), false, JSON.stringify(id));
    }
    assert.equal(d.log("\uFFFD"), true);
    assert.equal(d.log("\uD83D\uDE00"), true); // a whole pair is fine
    assert.throws(() => d.declareEventId("\uDFFF"), RangeError);
    await within("end of ecl.flush()", ecl.flush());
    assert.equal(warnings.length, 4, warnings.join("\n"));
    for (const warning of warnings) assert.match(warning, /is not valid Unicode/);
    assert.deepEqual(await snapshot(await server.client()), {
      "d:1m:cur:\uFFFD": "1",
      "d:1m:cur:😀": "1",
    });
    await within("end of ecl.close()", ecl.close());
    assert.throws(
      () => parseGroups({ "g\uD800": { intervals: ["1m"] } }),
      {
        name: "ConfigError",
        message: /^groups\["g\\ud800"\]: Group name "g\\ud800" is not valid Unicode/,
      },
    );
    assert.throws(
      () => parseGroups({ g: { events: ["\uDC00"], intervals: ["1m"] } }),
      {
        name: "ConfigError",
        message: /^groups\.g\.events\[0\]: Event ID "\\udc00" is not valid Unicode/,
      },
    );
  }));

Deno.test("a sync_interval longer than a day is refused (a timer that long would overflow to 1 ms)", () => {
  assert.throws(
    () =>
      new EventCountLogger({ g: { events: ["a"], intervals: ["1h"], sync_interval: 3_000_000 } }),
    {
      name: "ConfigError",
      message: /^groups\.g\.sync_interval: Expected at most 86400 seconds, got 3000000/,
    },
  );
  assert.doesNotThrow(() =>
    new EventCountLogger({ g: { events: ["a"], intervals: ["1h"], sync_interval: 86_400 } })
  );
});

Deno.test("event IDs and group names with line breaks are refused", () => {
  const warnings: string[] = [];
  const ecl = new EventCountLogger(
    { g: { auto_declare_events: true, intervals: ["1h"] } },
    undefined,
    {
      onWarning: (message) => warnings.push(message),
    },
  );
  assert.equal(ecl.getGroup("g")!.log("a\nb"), false);
  assert.match(warnings[0], /must not contain a line break/);
  assert.throws(() => new EventCountLogger({ "a\nb": { intervals: ["1h"] } }), {
    name: "ConfigError",
    message: /must not contain a line break/,
  });
  return ecl.close();
});

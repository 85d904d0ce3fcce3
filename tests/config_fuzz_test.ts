/**
 * Fuzzing of `loadConfig()` with malformed YAML: thousands of random mutations of
 * `example_config.yml` (lines deleted, duplicated, swapped, re-indented, uncommented; YAML syntax
 * characters, anchors, aliases, tags and tabs inserted; scalars replaced with values of other
 * types; keys renamed; text truncated). Every document must load into a valid configuration or be
 * refused with a `ConfigError` whose message is one line starting with the file name — never
 * another error class, never output of its own on stderr, never a hang.
 *
 * The generator is seeded (mulberry32) and the seed is printed: reproduce a failure with
 * `ECL_FUZZ_SEED=<seed> deno test -A tests/config_fuzz_test.ts` (`ECL_FUZZ_DOCS` sets the number
 * of documents).
 */
import assert from "node:assert/strict";
import process from "node:process";
import { type EclConfig, loadConfig } from "../lib/config.ts";
import { checkGroupName } from "../lib/ids.ts";
import { REDIS_URL_ENV } from "../lib/redis_config.ts";
import { ConfigError } from "../lib/errors.ts";
import { runCli } from "./_process.ts";
import { freePort } from "./_redis.ts";
import { mulberry32 } from "./_random.ts";

const DEFAULT_SEED = 0x0ec1f022;
const SEED = Number(Deno.env.get("ECL_FUZZ_SEED") ?? DEFAULT_SEED) >>> 0;
const DOCS = Number(Deno.env.get("ECL_FUZZ_DOCS") ?? 3000);
/** Documents also run through the real CLI (one process each). */
const CLI_DOCS = 50;
const CLI_CONCURRENCY = 4;
/** One document must load within this; anything longer is a hang in the making. */
const MAX_LOAD_MS = 2000;

const EXAMPLE = await Deno.readTextFile(new URL("../example_config.yml", import.meta.url));

class Random {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }
  /** A whole number from 0 to n - 1. */
  int(n: number): number {
    return Math.floor(this.#next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
}

/** Fragments inserted at random places: YAML syntax, anchors, aliases, tags, odd characters. */
const TOKENS = [
  ":",
  ": ",
  "-",
  "- ",
  "[",
  "]",
  "{",
  "}",
  ",",
  "? ",
  "&a ",
  "*a",
  "&a",
  "*b",
  "&b [*b] ",
  "!!binary ",
  "!!str ",
  "!!int ",
  "!!float ",
  "!!map ",
  "!!seq ",
  "!!set ",
  "!!omap ",
  "!!timestamp ",
  "!foo ",
  "!<tag:x> ",
  "\t",
  "#",
  "'",
  '"',
  "|",
  ">",
  "@",
  "%",
  "`",
  "\\",
  "\0",
  "\x07",
  "\uFEFF",
  "\u2028",
  "😀",
  "é",
  "\r",
  "\n",
  "<<: ",
  "~",
  "null",
  "---",
  "...",
];

/** Values that replace scalars: other types, edge numbers, bad intervals, aliases, collections. */
const SCALARS = [
  "null",
  "~",
  "",
  "true",
  "false",
  "yes",
  "-1",
  "0",
  "1",
  "1.5",
  "-0.5",
  ".inf",
  "-.inf",
  ".nan",
  "0x1F",
  "0o17",
  "1e400",
  "1e-400",
  "99999999999999999999",
  "9007199254740992",
  "65536",
  "''",
  '""',
  "[]",
  "{}",
  "[a, b]",
  "{a: 1}",
  "[[5m]]",
  "!!binary aGVsbG8=",
  "!!str 5m",
  '"@x"',
  "'a:b'",
  "5x",
  "0.5m",
  "60s",
  "0s",
  "1.5s",
  "[5m, 300s]",
  "[10s, 10S]",
  "[event1, event1]",
  "[1, 2]",
  "[0.5]",
  "2001-12-14",
  "12:30:00",
  "*a",
  "&a [*a]",
  "&a {x: *a}",
  "&a x",
  "[*a]",
  "|\n    text",
  ">-\n    folded",
  "redis://%E0%A4%A@h",
  "redis://u:%ZZ@h:6379/0",
  "rediss://u:p@h:0/x",
  "redis://[::1]:6380/2",
  "http://h",
  "not a url",
  "g:x",
  "@g",
  "x".repeat(200),
];

/** Names that replace keys: known keys in the wrong place, near misses, odd names. */
const KEYS = [
  "intervals",
  "interval",
  "events",
  "Events",
  "groups",
  "redis",
  "url",
  "tls",
  "port",
  "host",
  "db",
  "auto_declare_events",
  "sync_interval",
  "sync_limit",
  "max_pending_keys",
  "password",
  "username",
  "ca_file",
  "reject_unauthorized",
  "__proto__",
  "constructor",
  "toString",
  "@x",
  "'a:b'",
  "''",
  "group1",
  "group2",
  "<<",
  "? [a]",
  "[a]",
  "{a: 1}",
];

/** Whole lines inserted at random places. */
const LINES = [
  "  - x",
  "- x",
  "? a",
  "&a",
  "---",
  "...",
  "%YAML 1.1",
  "%TAG ! tag:x,2000:",
  "groups:",
  "redis:",
  "redis: *a",
  "  group3: &a {intervals: [5m]}",
  "  group4: *a",
  "  <<: *a",
  "    intervals: &i [*i]",
  "\tintervals: [5m]",
  "  url: redis://localhost:6379/0",
  "  tls: {ca_file: /nonexistent.pem}",
  "    events: !!set {a, b}",
  "    events: !!omap [a: 1]",
  "  ? [a, b]",
  "  : {intervals: [5m]}",
];

const KEY_LINE = /^(\s*(?:- )?)([^\s#:][^:#]*?)(:(?:\s|$).*)$/;
const VALUE_LINE = /^(\s*(?:- )?[^\s#:][^:#]*:[ \t]+)([^#]*?)([ \t]+#.*)?$/;
const COMMENT_LINE = /^(\s*)#\s?/;

function mutate(random: Random, text: string): { text: string; steps: string[] } {
  let lines = text.split("\n");
  const steps: string[] = [];
  const count = 1 + random.int(4);
  const lineIndex = () => random.int(Math.max(lines.length, 1));
  const matching = (pattern: RegExp) =>
    lines.flatMap((line, index) => pattern.test(line) && !/^\s*#/.test(line) ? [index] : []);
  for (let step = 0; step < count; step++) {
    const kind = random.int(12);
    const i = lineIndex();
    switch (kind) {
      case 0:
        lines.splice(i, 1);
        steps.push(`delete line ${i}`);
        break;
      case 1:
        lines.splice(i, 0, lines[i] ?? "");
        steps.push(`duplicate line ${i}`);
        break;
      case 2: {
        const j = random.chance(0.5) ? Math.min(i + 1, lines.length - 1) : lineIndex();
        [lines[i], lines[j]] = [lines[j], lines[i]];
        steps.push(`swap lines ${i} and ${j}`);
        break;
      }
      case 3: {
        const line = lines[i] ?? "";
        const how = random.int(4);
        lines[i] = how === 0
          ? " ".repeat(1 + random.int(4)) + line
          : how === 1
          ? line.replace(/^ {1,3}/, "")
          : how === 2
          ? line.replace(/^ +/, "\t")
          : "\t" + line;
        steps.push(`re-indent line ${i} (${how})`);
        break;
      }
      case 4:
      case 5: {
        const line = lines[i] ?? "";
        const at = random.int(line.length + 1);
        const token = random.pick(TOKENS);
        lines[i] = line.slice(0, at) + token + line.slice(at);
        steps.push(`insert ${JSON.stringify(token)} in line ${i} at ${at}`);
        break;
      }
      case 6:
      case 7: {
        const candidates = matching(VALUE_LINE);
        if (candidates.length === 0) break;
        const k = random.pick(candidates);
        const value = random.pick(SCALARS);
        lines[k] = lines[k].replace(
          VALUE_LINE,
          (_, head, _old, tail) => head + value + (tail ?? ""),
        );
        steps.push(`value of line ${k} := ${JSON.stringify(value)}`);
        break;
      }
      case 8: {
        const candidates = matching(KEY_LINE);
        if (candidates.length === 0) break;
        const k = random.pick(candidates);
        const key = random.pick(KEYS);
        lines[k] = lines[k].replace(KEY_LINE, (_, head, _old, tail) => head + key + tail);
        steps.push(`key of line ${k} := ${JSON.stringify(key)}`);
        break;
      }
      case 9: {
        const comments = lines.flatMap((line, index) => COMMENT_LINE.test(line) ? [index] : []);
        if (comments.length === 0) break;
        const k = random.pick(comments);
        lines[k] = lines[k].replace(COMMENT_LINE, "$1");
        steps.push(`uncomment line ${k}`);
        break;
      }
      case 10: {
        const line = random.pick(LINES);
        lines.splice(i, 0, line);
        steps.push(`insert line ${JSON.stringify(line)} at ${i}`);
        break;
      }
      case 11: {
        const joined = lines.join("\n");
        const at = random.int(joined.length + 1);
        lines = joined.slice(0, at).split("\n");
        steps.push(`truncate at ${at}`);
        break;
      }
    }
  }
  return { text: lines.join("\n"), steps };
}

/** The example without its comments: most mutations then hit YAML that matters. */
const STRIPPED = EXAMPLE.split("\n").filter((line) => !/^\s*#/.test(line))
  .map((line) => line.replace(/\s+#.*$/, "")).join("\n");

interface FuzzDoc {
  readonly index: number;
  readonly text: string;
  readonly steps: readonly string[];
}

function generate(seed: number, count: number): FuzzDoc[] {
  const random = new Random(seed);
  const docs: FuzzDoc[] = [];
  for (let index = 0; index < count; index++) {
    const base = random.chance(0.5) ? STRIPPED : EXAMPLE;
    const { text, steps } = mutate(random, base);
    const prefix = random.chance(0.05) ? "%YAML 1.1\n---\n" : "";
    docs.push({ index, text: prefix + text, steps: prefix ? ["%YAML 1.1", ...steps] : steps });
  }
  return docs;
}

/** Hand-written hostile documents, checked before the random ones. */
const FIXED: readonly string[] = [
  "",
  "\uFEFF",
  "\0",
  "hello",
  "- a\n- b\n",
  "groups:\n  g:\n    intervals: &i [*i]\n", // a list that contains itself
  "groups:\n  g:\n    events: &e [*e]\n    intervals: [5m]\n",
  "groups: &g\n  g: *g\n",
  "groups:\n  ? [a, b]\n  : {intervals: [5m]}\n", // a collection as a key
  "groups:\n  {a: 1}: {intervals: [5m]}\n",
  "redis:\n  url: redis://%E0%A4%A@host/0\ngroups:\n  g:\n    intervals: [5m]\n",
  "redis:\n  url: redis://u:%ZZ@host/0\ngroups:\n  g:\n    intervals: [5m]\n",
  "groups: " + "[".repeat(20_000) + "\n",
  "groups: " + "{a: ".repeat(5_000) + "\n",
  "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n" +
  "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
  "%YAML 1.1\n---\ngroups:\n  g:\n    intervals: [5m]\n    events: !!binary aGVsbG8=\n",
  "%YAML 1.1\n---\ngroups: !!set {a, b}\n",
  "%YAML 1.1\n---\ngroups: !!omap [g: {intervals: [5m]}]\n",
  "%YAML 1.1\n---\ngroups:\n  g: 2001-12-14\n",
  "%YAML 1.1\n---\nredis:\n  port: 1:30\ngroups:\n  g:\n    intervals: [5m]\n",
  "%YAML 1.1\n---\nb: &b {intervals: [5m]}\ngroups:\n  g:\n    <<: *b\n",
  "groups:\n  __proto__:\n    intervals: [5m]\n",
  "__proto__: {}\ngroups:\n  g:\n    intervals: [5m]\n",
  "groups:\n  g:\n    __proto__: {intervals: [5m]}\n",
  "groups:\n  g:\n    intervals: !foo [5m]\n",
  "groups:\r\n  g:\r\n    intervals: [5m]\r\n",
  "groups:\n\tg:\n\t\tintervals: [5m]\n",
  "groups: {}\n---\ngroups: {}\n",
  "groups:\n  g:\n    intervals: [5m]\n    sync_interval: 1e400\n",
  "groups:\n  g:\n    intervals: [5m]\n    sync_limit: 99999999999999999999999\n",
  'groups:\n  "g\\u2028x":\n    intervals: [5m]\n',
  'groups:\n  "g\\nx":\n    intervals: ["5m\\n"]\n',
  "groups:\n  g:\n    intervals: [" + "5m, ".repeat(10_000) + "]\n",
];

/** Facts every configuration that loads must satisfy. */
function assertValid(config: EclConfig, file: string): void {
  assert.equal(config.file, file);
  assert.ok(config.groups.size >= 1);
  const { port, db } = config.redis;
  assert.ok(Number.isInteger(port) && port >= 1 && port <= 65535, `port ${port}`);
  assert.ok(Number.isSafeInteger(db) && db >= 0, `db ${db}`);
  for (const [name, group] of config.groups) {
    assert.equal(group.name, name);
    assert.equal(checkGroupName(name), undefined);
    assert.ok(group.intervals.length >= 1);
    const lengths = group.intervals.map((i) => i.seconds);
    assert.equal(new Set(lengths).size, lengths.length);
    for (const s of lengths) assert.ok(Number.isSafeInteger(s) && s >= 1, `interval ${s}`);
    assert.equal(new Set(group.events).size, group.events.length);
    for (const event of group.events) {
      assert.ok(typeof event === "string" && event !== "" && !event.startsWith("@"), event);
    }
    if (group.syncLimit !== undefined) assert.ok(Number.isSafeInteger(group.syncLimit));
    if (group.syncIntervalMs !== undefined) {
      assert.ok(Number.isFinite(group.syncIntervalMs) && group.syncIntervalMs > 0);
    }
    assert.ok(Number.isSafeInteger(group.maxPendingKeys) && group.maxPendingKeys >= 1);
  }
}

function describe(doc: FuzzDoc | { index: number; text: string; steps?: undefined }): string {
  const text = doc.text.length > 3000 ? doc.text.slice(0, 3000) + "…" : doc.text;
  return `seed ${SEED}, document ${doc.index}${
    doc.steps ? ` (mutations: ${doc.steps.join("; ")})` : ""
  }:\n${JSON.stringify(text)}`;
}

type Outcome = { ok: true } | { ok: false; message: string };

/** Load one document from `file`; fail the test unless it loads or is a one-line ConfigError. */
async function check(
  file: string,
  doc: FuzzDoc | { index: number; text: string },
): Promise<{ outcome: Outcome; ms: number }> {
  await Deno.writeTextFile(file, doc.text);
  const start = performance.now();
  let outcome: Outcome;
  try {
    assertValid(await loadConfig(file), file);
    outcome = { ok: true };
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      assert.fail(
        `Not a ConfigError: ${(error as Error)?.stack ?? String(error)}\n${describe(doc)}`,
      );
    }
    const { message } = error;
    assert.ok(!/[\r\n]/.test(message), `Message on several lines: ${message}\n${describe(doc)}`);
    assert.ok(message.startsWith(`${file}: `), `Message without the file: ${message}`);
    assert.equal(error.file, file);
    outcome = { ok: false, message };
  }
  const ms = performance.now() - start;
  assert.ok(ms < MAX_LOAD_MS, `Took ${ms.toFixed(0)} ms: ${describe(doc)}`);
  return { outcome, ms };
}

/** Run `body` with `ECL_REDIS_URL` set to `url` (or unset), restoring it afterwards. */
async function withRedisUrl<T>(url: string | undefined, body: () => Promise<T>): Promise<T> {
  const saved = Deno.env.get(REDIS_URL_ENV);
  if (url === undefined) Deno.env.delete(REDIS_URL_ENV);
  else Deno.env.set(REDIS_URL_ENV, url);
  try {
    return await body();
  } finally {
    if (saved === undefined) Deno.env.delete(REDIS_URL_ENV);
    else Deno.env.set(REDIS_URL_ENV, saved);
  }
}

/** Collect what would reach stderr through process warnings or console.warn/error meanwhile. */
async function capturingStray<T>(body: () => Promise<T>): Promise<{ result: T; stray: string[] }> {
  const stray: string[] = [];
  const { emitWarning } = process;
  const { warn, error } = console;
  process.emitWarning = ((warning: string | Error) => {
    stray.push(`emitWarning: ${String(warning)}`);
  }) as typeof process.emitWarning;
  console.warn = (...args: unknown[]) => stray.push(`console.warn: ${args.join(" ")}`);
  console.error = (...args: unknown[]) => stray.push(`console.error: ${args.join(" ")}`);
  try {
    return { result: await body(), stray };
  } finally {
    process.emitWarning = emitWarning;
    console.warn = warn;
    console.error = error;
  }
}

Deno.test("loadConfig() survives malformed YAML: a valid config or a one-line ConfigError", async () => {
  console.log(`config fuzz: seed ${SEED} (ECL_FUZZ_SEED), ${DOCS} documents (ECL_FUZZ_DOCS)`);
  const docs = generate(SEED, DOCS);
  const distinct = new Set(docs.map((doc) => doc.text)).size;
  assert.ok(distinct > DOCS / 2, `only ${distinct} distinct documents`);
  const file = await Deno.makeTempFile({ prefix: "ecl-fuzz-", suffix: ".yml" });
  const started = performance.now();
  try {
    const { result: stats, stray } = await capturingStray(() =>
      withRedisUrl(undefined, async () => {
        let valid = 0;
        let slowest = 0;
        const details = new Map<string, number>();
        const fixed = FIXED.map((text, index) => ({ index: -1 - index, text }));
        for (const doc of [...fixed, ...docs]) {
          const { outcome, ms } = await check(file, doc);
          slowest = Math.max(slowest, ms);
          if (outcome.ok) valid++;
          else {
            // Group messages by their kind (the text after the YAML path), for the summary.
            const kind = outcome.message.slice(file.length + 2).replace(/"[^"]*"|\d+/g, "…")
              .slice(0, 40);
            details.set(kind, (details.get(kind) ?? 0) + 1);
          }
        }
        return { valid, slowest, kinds: details.size };
      })
    );
    assert.deepEqual(stray, [], "loadConfig() wrote to stderr by itself");
    // Mutations must mostly break the example, but not always.
    assert.ok(stats.valid > 0 && stats.valid < DOCS / 2, `${stats.valid} valid documents`);
    console.log(
      `config fuzz: ${DOCS + FIXED.length} documents (${distinct} distinct random ones) in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s: ${stats.valid} valid, ${
        DOCS + FIXED.length - stats.valid
      } ConfigErrors of ${stats.kinds} kinds; slowest ${stats.slowest.toFixed(0)} ms`,
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("ecl read with a malformed config: exit 2 and one ERROR line, no stack trace", async () => {
  const docs = generate(SEED, DOCS);
  const sample = Array.from(
    { length: CLI_DOCS },
    (_, i) => docs[Math.floor(i * docs.length / CLI_DOCS)],
  );
  // Redis is never reached: a config that happens to be valid ends with exit 3 (or 1 when it has
  // no group1, or group1 has several intervals and no -i was given).
  const url = `redis://127.0.0.1:${await freePort()}`;
  const files: string[] = [];
  try {
    const expected = await withRedisUrl(url, async () => {
      const outcomes: Outcome[] = [];
      for (const doc of sample) {
        const file = await Deno.makeTempFile({ prefix: "ecl-fuzz-cli-", suffix: ".yml" });
        files.push(file);
        outcomes.push((await check(file, doc)).outcome);
      }
      return outcomes;
    });
    const started = performance.now();
    for (let start = 0; start < sample.length; start += CLI_CONCURRENCY) {
      const indexes = [...sample.keys()].slice(start, start + CLI_CONCURRENCY);
      const results = await Promise.all(
        indexes.map((i) => runCli(["read", files[i], "-g", "group1"], { [REDIS_URL_ENV]: url })),
      );
      results.forEach((result, k) => {
        const i = indexes[k];
        const outcome = expected[i];
        const about = `${JSON.stringify(result)}\n${describe(sample[i])}`;
        assert.equal(result.stdout, "", about);
        assert.ok(!result.stderr.includes("    at "), `stack trace: ${about}`);
        assert.match(result.stderr, /^ERROR: [^\n]*\n$/, about);
        if (outcome.ok) {
          assert.ok(result.code === 1 || result.code === 3, about);
        } else {
          assert.equal(result.code, 2, about);
          assert.equal(result.stderr, `ERROR: ${outcome.message}\n`, about);
        }
      });
    }
    const rejected = expected.filter((outcome) => !outcome.ok).length;
    console.log(
      `config fuzz CLI: ${sample.length} documents (${rejected} malformed) in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );
    assert.ok(rejected >= CLI_DOCS / 2, `only ${rejected} malformed documents in the sample`);
  } finally {
    for (const file of files) await Deno.remove(file);
  }
});

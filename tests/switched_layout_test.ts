/**
 * Counts a switch to `layout: periods` left in the python layout's keys: not read, and said so
 * where users of such a group look (they run no master, which warns at its start): `ecl serve` at
 * its start, the library logger at its first connection, `ecl read` when what it read is empty.
 * Each is one cheap probe (an `MGET` of `<group>:<interval>:cur:@ts`); groups without such keys get
 * no warning, and a read that finds counts sends no probe at all.
 */
import assert from "node:assert/strict";
import { EventCountLogger, type GroupsSpec } from "../mod.ts";
import { runCli, startScript, writeConfig } from "./_process.ts";
import { type RawClient, type RedisServer, withRedis } from "./_redis.ts";
import { waitFor, within } from "./_wait.ts";

/** The warning for (group, interval) whose python-layout keys hold counts. */
function leftoverWarning(group: string, interval: string): string {
  return `group "${group}", interval ${interval}: Redis holds counts in layout "python", but the group uses layout "periods": they are not read (see README, "Layouts": switching a group's layout)`;
}

/**
 * Group `p` (periods, `1m` and `5m`) was in the python layout before: its `1m` keys are still
 * there. Group `q` (periods) never was; group `old` (python) has periods hashes, which only
 * `ecl master` warns about (they expire by themselves).
 */
async function configWithLeftovers(server: RedisServer, raw: RawClient): Promise<string> {
  await raw.mSet({ "p:1m:cur:@ts": "1795000020", "p:1m:cur:a": "5", "p:1m:last:a": "7" });
  const start = Math.floor(Date.now() / 60_000) * 60;
  await raw.hSet(`{old:1m:0}:p:${start}`, "a", "1");
  return await writeConfig(`redis: {host: 127.0.0.1, port: ${server.port}}
groups:
  p:
    layout: periods
    events: [a]
    intervals: [1m, 5m]
  q:
    layout: periods
    events: [a]
    intervals: [1m]
  old:
    events: [a]
    intervals: [1m]
`);
}

/** Successful calls of `command` that Redis ran since its statistics were reset. */
async function calls(raw: RawClient, command: string): Promise<number> {
  const line = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(await raw.info("commandstats"));
  return line === null ? 0 : Number(line[1]);
}

/** Lines of `text` that are the leftover warning. */
function leftoverLines(text: string): string[] {
  return text.split("\n").filter((line) => line.includes("Redis holds counts"));
}

Deno.test("ecl serve warns at start, on stderr, about a periods group's counts in python keys; not for the other groups", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    const file = await configWithLeftovers(server, raw);
    const serve = startScript("cli.ts", ["serve", file, "--listen", "127.0.0.1:0"]);
    try {
      await serve.waitForLine("stderr", /Redis holds counts/);
      serve.kill("SIGTERM");
      await within("exit of ecl serve", serve.exit());
      // One probe for all groups: every answer is in when the first warning is printed.
      assert.deepEqual(leftoverLines(serve.stderr), [
        `ecl: warning: ${leftoverWarning("p", "1m")}`,
      ]);
    } finally {
      serve.kill("SIGKILL");
      await Deno.remove(file);
    }
  }));

Deno.test("the library logger warns once, through onWarning, after its first connection; not for groups without such keys", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    const file = await configWithLeftovers(server, raw);
    const warnings: string[] = [];
    const ecl = await EventCountLogger.fromFile(file, {
      onWarning: (message) => warnings.push(message),
    });
    try {
      await within("ecl.ready()", ecl.ready());
      await waitFor("the leftover warning", () => Promise.resolve(warnings.length > 0));
      assert.deepEqual(warnings, [leftoverWarning("p", "1m")]);
      // Once per logger: not again when it reconnects (Redis restarted, the keys kept by AOF).
      await server.restart();
      await waitFor(
        "the reconnection",
        () => Promise.resolve(warnings.some((w) => /^Reconnected/.test(w))),
      );
      ecl.getGroup("q")!.log("a");
      await within("ecl.flush()", ecl.flush());
      await within("ecl.close()", ecl.close());
      // Every command the logger sent was answered before close() ended: no second probe.
      assert.equal(await calls(await server.client(), "mget"), 0);
      assert.deepEqual(warnings.filter((w) => w.includes("Redis holds counts")), [
        leftoverWarning("p", "1m"),
      ]);
    } finally {
      await ecl.close();
      await Deno.remove(file);
    }
  }, ["--appendonly", "yes", "--appendfsync", "always"]));

Deno.test("the library logger: no warning without such keys; the default path is console.warn with ecl: first", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    const spec = { host: "127.0.0.1", port: server.port };
    const groups: GroupsSpec = { q: { layout: "periods", events: ["a"], intervals: ["1m"] } };
    const quiet: string[] = [];
    const clean = new EventCountLogger(groups, spec, { onWarning: (m) => quiet.push(m) });
    await raw.configResetStat();
    clean.getGroup("q")!.log("a");
    await within("clean.close()", clean.close());
    assert.equal(
      await calls(raw, "mget"),
      1,
      "the probe ran, and was answered before close() ended",
    );
    assert.deepEqual(quiet, []);

    await raw.set("q:1m:cur:@ts", "1795000020");
    const printed: unknown[][] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => printed.push(args);
    const logger = new EventCountLogger(groups, spec);
    try {
      await within("logger.ready()", logger.ready());
      await waitFor("the leftover warning", () => Promise.resolve(printed.length > 0));
      assert.deepEqual(printed, [[`ecl: ${leftoverWarning("q", "1m")}`]]);
    } finally {
      console.warn = warn;
      await within("logger.close()", logger.close());
    }
  }));

Deno.test("ecl read warns only when what it read is empty, and probes only then", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    const file = await configWithLeftovers(server, raw);
    try {
      // Empty (every count 0): the warning, once, after the output.
      const empty = await runCli(["read", file, "-g", "p", "-i", "1m"]);
      assert.deepEqual(empty, {
        code: 0,
        stdout: "a:0\n",
        stderr: `ecl: warning: ${leftoverWarning("p", "1m")}\n`,
      });
      const history = await runCli([
        "read",
        file,
        "-g",
        "p",
        "-i",
        "1m",
        "--history",
        "1",
        "-f",
        "json",
      ]);
      assert.equal(history.code, 0, history.stderr);
      assert.equal(history.stderr, `ecl: warning: ${leftoverWarning("p", "1m")}\n`);
      // Empty, but the interval read (5m) and the group q have no such keys: nothing to say.
      for (const args of [["-g", "p", "-i", "5m"], ["-g", "q"], ["-g", "old"]]) {
        const read = await runCli(["read", file, ...args, "--current"]);
        assert.deepEqual([read.code, read.stderr], [0, ""], args.join(" "));
      }
      // ecl log (a one-shot writer) does not probe.
      await raw.configResetStat();
      assert.deepEqual(await runCli(["log", file, "p", "a", "3"]), {
        code: 0,
        stdout: "",
        stderr: "",
      });
      assert.equal(await calls(raw, "mget"), 0);
      // Counts read: no probe, no extra round trip.
      const counted = await runCli(["read", file, "-g", "p", "-i", "1m", "--current"]);
      assert.deepEqual(counted, { code: 0, stdout: "a:3\n", stderr: "" });
      assert.equal(await calls(raw, "mget"), 0);
      // An empty read probes with one MGET.
      const before = await runCli(["read", file, "-g", "q", "--current"]);
      assert.deepEqual(before, { code: 0, stdout: "a:0\n", stderr: "" });
      assert.equal(await calls(raw, "mget"), 1);
    } finally {
      await Deno.remove(file);
    }
  }));

/** Create the user `name` with its rules from docs/acl.md, and `password`. */
async function createDocumentedUser(raw: RawClient, name: string, password: string): Promise<void> {
  const text = await Deno.readTextFile(new URL("../docs/acl.md", import.meta.url));
  const line = text.split("\n").find((line) => line.startsWith(`ACL SETUSER ${name} `));
  assert.ok(line !== undefined, `docs/acl.md has no ACL SETUSER ${name}`);
  const rules = line.split(/\s+/).slice(3).map((rule) =>
    rule.startsWith(">") ? `>${password}` : rule
  );
  assert.equal(await raw.sendCommand(["ACL", "SETUSER", name, ...rules]), "OK");
}

Deno.test("the documented periods users of docs/acl.md may probe: warnings, ecl status OK, nothing refused", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    await createDocumentedUser(raw, "ecl-web", "web-logger-secret");
    await createDocumentedUser(raw, "ecl-web-reader", "web-reader-secret");
    await raw.set("web:5m:cur:@ts", "1795000200");
    await raw.sendCommand(["ACL", "LOG", "RESET"]);
    const groups =
      `groups:\n  web:\n    layout: periods\n    events: [home]\n    intervals: [5m]\n`;
    const reader = await writeConfig(
      `redis: {host: 127.0.0.1, port: ${server.port}, username: ecl-web-reader, password: web-reader-secret}\n${groups}`,
    );
    const warnings: string[] = [];
    const ecl = new EventCountLogger(
      { web: { layout: "periods", events: ["home"], intervals: ["5m"] } },
      { host: "127.0.0.1", port: server.port, username: "ecl-web", password: "web-logger-secret" },
      { onWarning: (message) => warnings.push(message) },
    );
    try {
      await within("ecl.ready()", ecl.ready());
      await waitFor("the leftover warning", () => Promise.resolve(warnings.length > 0));
      assert.deepEqual(warnings, [leftoverWarning("web", "5m")]);
      const read = await runCli(["read", reader, "-g", "web"]);
      assert.deepEqual(read, {
        code: 0,
        stdout: "home:0\n",
        stderr: `ecl: warning: ${leftoverWarning("web", "5m")}\n`,
      });
      const status = await runCli(["status", reader]);
      assert.equal(status.code, 0, status.stdout + status.stderr);
      // Redis refused nothing (but CLIENT SETINFO on Redis 7.2 or later: see docs/acl.md).
      const refused = (await raw.sendCommand(["ACL", "LOG"]) as unknown[])
        .filter((entry) => !JSON.stringify(entry).includes("client|setinfo"));
      assert.deepEqual(refused, []);
    } finally {
      await within("ecl.close()", ecl.close());
      await Deno.remove(reader);
    }
  }));

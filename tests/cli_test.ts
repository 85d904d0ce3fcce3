/** The CLI as users run it: output byte for byte, every error path and exit code. */
import assert from "node:assert/strict";
import { commanderHelp, commanderParse, quickParse, topLevelHelp } from "../cli.ts";
import { VERSION } from "../lib/version.ts";
import { PERMISSIONS } from "../scripts/_permissions.ts";
import { finish, runCli, spawn, startScript, writeConfig } from "./_process.ts";
import { freePort, type RedisServer, withRedis } from "./_redis.ts";
import { within } from "./_wait.ts";

/** Start of the current 5-minute period: counters that a master rotated on time. */
const B = Math.floor(Date.now() / 300_000) * 300;

function configFor(server: RedisServer | { port: number }): Promise<string> {
  return writeConfig(`redis:
  host: 127.0.0.1
  port: ${server.port}
groups:
  requests:
    events: [req1, req2, error]
    intervals: [5s, 5m]
  dyn:
    auto_declare_events: true
    intervals: [1m]
`);
}

Deno.test("ecl read prints sorted event:count lines like the original reader", () =>
  withRedis(async (server) => {
    const config = await configFor(server);
    const raw = await server.client();
    await raw.mSet({
      "requests:5m:last:req1": "54",
      "requests:5m:last:req2": "11",
      "requests:5m:cur:req1": "3",
      "requests:5m:last:@ts": String(B - 300),
      "requests:5m:cur:@ts": String(B),
      "dyn:1m:last:b": "2",
      "dyn:1m:last:a:x": "1",
      "dyn:1m:cur:c": "9",
    });
    const last = await runCli(["read", config, "-g", "requests", "-i", "5m"]);
    assert.equal(last.stdout, "error:0\nreq1:54\nreq2:11\n");
    assert.equal(last.stderr, "");
    assert.equal(last.code, 0);

    const current = await runCli(["read", config, "-g", "requests", "-i", "5m", "--current"]);
    assert.equal(current.stdout, "error:0\nreq1:3\nreq2:0\n");

    const both = await runCli(["read", config, "-g", "requests", "-i", "5m", "--both"]);
    assert.equal(
      both.stdout,
      "Last:\nerror:0\nreq1:54\nreq2:11\nCurrent:\nerror:0\nreq1:3\nreq2:0\n",
    );

    // One interval: -i may be left out; dynamic events are found by a key scan.
    const dyn = await runCli(["read", config, "-g", "dyn"]);
    assert.equal(dyn.stdout, "a:x:1\nb:2\n");

    const json = await runCli([
      "read",
      config,
      "-g",
      "requests",
      "-i",
      "5m",
      "--both",
      "-f",
      "json",
    ]);
    assert.deepEqual(JSON.parse(json.stdout), {
      group: "requests",
      interval: "5m",
      stale: false,
      last: { start: B - 300, end: B, complete: true, counts: { error: 0, req1: 54, req2: 11 } },
      current: { start: B, end: B + 300, counts: { error: 0, req1: 3, req2: 0 } },
    });
    await Deno.remove(config);
  }));

Deno.test("ecl read says when last spans several intervals and when no master rotates", () =>
  withRedis(async (server) => {
    const config = await configFor(server);
    const raw = await server.client();
    const old = B - 3600;
    // The master stopped an hour ago, after rotating once over a 15-minute outage.
    await raw.mSet({
      "requests:5m:last:req1": "9",
      "requests:5m:last:@ts": String(old - 900),
      "requests:5m:cur:@ts": String(old),
    });
    const text = await runCli(["read", config, "-g", "requests", "-i", "5m"]);
    assert.equal(text.code, 0);
    assert.equal(text.stdout, "error:0\nreq1:9\nreq2:0\n");
    const at = (seconds: number) => new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
    assert.equal(
      text.stderr,
      `ecl: warning: requests:5m: "last" spans 3 intervals (${at(old - 900)} to ${
        at(old)
      }): the master missed boundaries\n` +
        `ecl: warning: requests:5m: not rotated since ${
          at(old)
        }: is an ecl master running for this Redis?\n`,
    );
    const json = JSON.parse(
      (await runCli(["read", config, "-g", "requests", "-i", "5m", "-f", "json"])).stdout,
    );
    assert.equal(json.stale, true);
    assert.equal(json.last.complete, false);
    assert.equal(json.last.end - json.last.start, 900);
    await Deno.remove(config);
  }));

Deno.test("ecl read reports a value that is not a count and prints the others", () =>
  withRedis(async (server) => {
    const config = await configFor(server);
    const raw = await server.client();
    await raw.mSet({ "requests:5s:last:req1": "hello", "requests:5s:last:req2": "4" });
    const result = await runCli(["read", config, "-g", "requests", "-i", "5s"]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, "error:0\nreq2:4\n");
    assert.equal(
      result.stderr,
      'ecl: warning: Skipping event "req1" of requests:5s:last: its value "hello" is not a count\n',
    );
    await Deno.remove(config);
  }));

Deno.test("ecl read gives up on a Redis that stopped answering: exit 3, one line naming the wait", () =>
  withRedis(async (server) => {
    const config = await configFor(server);
    server.pause();
    try {
      const result = await runCli(["read", config, "-g", "requests", "-i", "5s"]);
      assert.equal(result.code, 3, result.stderr);
      assert.equal(result.stdout, "");
      assert.match(
        result.stderr,
        /^ERROR: Redis at redis:\/\/127\.0\.0\.1:\d+\/0 did not answer within 10 s\n$/,
      );
    } finally {
      server.resume();
      await Deno.remove(config);
    }
  }));

Deno.test("ecl log gives up on a Redis that takes the connection but never answers: exit 3", () =>
  withRedis(async (server) => {
    // Database 1: the client's first command (SELECT) is one the frozen server never answers.
    const config = await writeConfig(
      `redis:\n  host: 127.0.0.1\n  port: ${server.port}\n  db: 1\ngroups:\n  g:\n    events: [a]\n    intervals: [1h]\n`,
    );
    server.pause();
    try {
      const result = await runCli(["log", config, "g", "a"]);
      assert.equal(result.code, 3, result.stderr);
      assert.match(
        result.stderr,
        /^ERROR: Cannot connect to Redis at redis:\/\/127\.0\.0\.1:\d+\/1: no answer within 10 s\n$/,
      );
    } finally {
      server.resume();
      await Deno.remove(config);
    }
  }));

Deno.test("ecl log writes the count and exits 0 once Redis has it", () =>
  withRedis(async (server) => {
    const config = await configFor(server);
    const raw = await server.client();
    const result = await runCli(["log", config, "requests", "req2", "5"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "");
    assert.equal(result.stderr, "");
    assert.equal(await raw.get("requests:5s:cur:req2"), "5");
    assert.equal(await raw.get("requests:5m:cur:req2"), "5");
    assert.equal((await runCli(["log", config, "dyn", "new:id"])).code, 0);
    assert.equal(await raw.get("dyn:1m:cur:new:id"), "1");
    await Deno.remove(config);
  }));

Deno.test("ecl: errors are one line on stderr with the right exit code", async (t) => {
  await withRedis(async (server) => {
    const config = await configFor(server);
    const badConfig = await writeConfig("groups:\n  g:\n    intervals: [5m, 7x]\n");
    const cases: [string, string[], number, RegExp][] = [
      [
        "unknown group",
        ["read", config, "-g", "nope"],
        1,
        /^ERROR: Group "nope" not found in .*: it has "requests", "dyn"$/,
      ],
      [
        "unknown interval",
        ["read", config, "-g", "requests", "-i", "1h"],
        1,
        /^ERROR: Interval "1h" not configured for group "requests": it has 5s, 5m$/,
      ],
      [
        "interval needed",
        ["read", config, "-g", "requests"],
        1,
        /^ERROR: Group "requests" has several intervals \(5s, 5m\): choose one with -i$/,
      ],
      [
        "undeclared event",
        ["log", config, "requests", "nope"],
        1,
        /^ERROR: Event "nope" not configured for group "requests" and auto_declare_events is not enabled$/,
      ],
      [
        "reserved event",
        ["log", config, "dyn", "@ts"],
        2,
        /^ERROR: Cannot log event: Event ID "@ts" must not start with "@"/,
      ],
      [
        "fractional count",
        ["log", config, "requests", "req1", "1.5"],
        2,
        /^ERROR: Cannot log count "1.5": expected a whole number from 1 to 9007199254740991$/,
      ],
      ["zero count", ["log", config, "requests", "req1", "0"], 2, /^ERROR: Cannot log count "0"/],
      [
        "huge count",
        ["log", config, "requests", "req1", "99999999999999999999"],
        2,
        /^ERROR: Cannot log count "99999999999999999999"/,
      ],
      [
        "bad config",
        ["read", badConfig, "-g", "g"],
        2,
        new RegExp(
          `^ERROR: ${badConfig}: groups\\.g\\.intervals\\[1\\]: Cannot parse interval "7x"`,
        ),
      ],
      [
        "missing config",
        ["read", "/nonexistent/ecl.yml", "-g", "g"],
        2,
        /^ERROR: \/nonexistent\/ecl\.yml: Cannot read config file: no such file$/,
      ],
      [
        "unknown option",
        ["read", config, "-g", "g", "--bogus"],
        2,
        /^ERROR: unknown option '--bogus'$/,
      ],
      [
        "missing option",
        ["read", config],
        2,
        /^ERROR: required option '-g, --group <GROUP>' not specified$/,
      ],
      [
        "conflicting options",
        ["read", config, "-g", "dyn", "--last", "--current"],
        2,
        /^ERROR: option '--last' cannot be used with option '--current'$/,
      ],
      [
        "bad format",
        ["read", config, "-g", "dyn", "-f", "xml"],
        2,
        /^ERROR: option '-f, --format <FORMAT>' argument 'xml' is invalid/,
      ],
      ["unknown command", ["frobnicate"], 2, /^ERROR: unknown command 'frobnicate'$/],
    ];
    for (const [name, args, code, message] of cases) {
      await t.step(name, async () => {
        const result = await runCli(args);
        assert.equal(result.code, code, result.stderr);
        assert.equal(result.stdout, "");
        const lines = result.stderr.trimEnd().split("\n");
        assert.equal(lines.length, 1, result.stderr);
        assert.match(lines[0], message);
      });
    }
    await Deno.remove(config);
    await Deno.remove(badConfig);
  });
});

Deno.test("ecl: unreachable Redis exits 3 naming the address, never the password", async () => {
  const port = await freePort();
  const config = await configFor({ port });
  for (
    const args of [["read", config, "-g", "dyn"], ["log", config, "dyn", "x"], ["master", config]]
  ) {
    const result = await runCli(args, { ECL_REDIS_URL: `redis://user:s3cret@127.0.0.1:${port}/2` });
    assert.equal(result.code, 3, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `^ERROR: Cannot connect to Redis at redis://user@127\\.0\\.0\\.1:${port}/2: .*ECONNREFUSED`,
      ),
    );
    assert.equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
    assert.equal(result.stderr.includes("s3cret"), false);
  }
  await Deno.remove(config);
});

Deno.test("ecl --version and --help", async () => {
  const version = await runCli(["--version"]);
  assert.equal(version.code, 0);
  assert.match(
    version.stdout,
    new RegExp(`^ecl ${VERSION.replaceAll(".", "\\.")} \\(deno \\d+\\.\\d+\\.\\d+, \\S+\\)\\n$`),
  );
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  for (const command of ["master", "read", "log"]) {
    assert.match(help.stdout, new RegExp(`^  ${command} `, "m"));
  }
  const readHelp = await runCli(["read", "--help"]);
  assert.match(readHelp.stdout, /--both/);
  const none = await runCli([]);
  assert.equal(none.code, 2);
});

Deno.test("VERSION matches deno.json", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.equal(manifest.version, VERSION);
});

Deno.test("ecl log --stdin logs every good line, rejects bad ones by line number", () =>
  withRedis(async (server) => {
    const config = await configFor(server);
    const input = "req1\nreq2 5\n\nnope\nreq1 1.5\nreq1\t2\nreq2 0\r\nerror\n";
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "cli.ts", "log", config, "requests", "--stdin"],
      cwd: new URL("..", import.meta.url).pathname,
      env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await within("end of writer.close()", writer.close());
    const result = await child.output();
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 1, stderr);
    assert.equal(
      stderr,
      'ecl: warning: stdin line 4: Event "nope" not configured for group "requests" and auto_declare_events is not enabled\n' +
        'ecl: warning: stdin line 5: Cannot log count "1.5": expected a whole number from 1 to 9007199254740991\n' +
        'ecl: warning: stdin line 7: Cannot log count "0": expected a whole number from 1 to 9007199254740991\n' +
        "ecl: logged 9 events, 3 distinct, 3 rejected\n",
    );
    const raw = await server.client();
    assert.deepEqual(
      await raw.mGet(["requests:5m:cur:req1", "requests:5m:cur:req2", "requests:5s:cur:error"]),
      ["3", "5", "1"],
    );
    await Deno.remove(config);
  }));

Deno.test("ecl log exits 1 when Redis refuses the count (its counter is not a number)", () =>
  withRedis(async (server) => {
    const config = await configFor(server);
    const raw = await server.client();
    await raw.set("requests:5s:cur:req1", "hello");
    const result = await runCli(["log", config, "requests", "req1", "2"]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^ecl: warning: Cannot add 2 to event "req1" of group "requests", interval 5s: /,
    );
    assert.deepEqual(await raw.mGet(["requests:5s:cur:req1", "requests:5m:cur:req1"]), [
      "hello",
      "2",
    ]);
    await Deno.remove(config);
  }));

Deno.test("ecl runs every command with only the permissions the compiled binaries get", () =>
  withRedis(async (server) => {
    const config = await configFor(server);
    const root = new URL("..", import.meta.url).pathname;
    const run = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", ...PERMISSIONS, root + "cli.ts", ...args],
        env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      });
    const log = await finish(run(["log", config, "requests", "req1", "3"]), { name: "ecl log" });
    assert.equal(log.code, 0, log.stderr);
    const read = await finish(run(["read", config, "-g", "requests", "-i", "5m", "--current"]), {
      name: "ecl read",
    });
    assert.equal(read.stdout, "error:0\nreq1:3\nreq2:0\n", read.stderr);
    const master = spawn(run(["master", config]), "ecl master");
    await master.waitForLine("stderr", /master .* started/);
    master.kill("SIGTERM");
    const stopped = await master.exit();
    assert.equal(stopped.code, 0, stopped.stderr);
    await Deno.remove(config);
  }));

Deno.test("ecl read --watch prints a block per refresh off a terminal and stops on SIGINT", () =>
  withRedis(async (server) => {
    const config = await configFor(server);
    const raw = await server.client();
    await raw.set("requests:5m:last:req1", "4");
    const child = startScript("cli.ts", [
      "read",
      config,
      "-g",
      "requests",
      "-i",
      "5m",
      "--watch",
      "0.3",
    ]);
    // Two blocks printed, the second one whole (each ends with an empty line): then SIGINT.
    await child.until("two blocks on stdout", (c) => c.stdout.split("\n\n").length > 2);
    child.kill("SIGINT");
    const output = await child.exit();
    assert.equal(output.code, 0, output.stderr);
    const blocks = output.stdout.split("\n\n").filter((b) => b !== "");
    assert.ok(blocks.length >= 2, `${blocks.length} blocks`);
    for (const block of blocks) assert.equal(block, "error:0\nreq1:4\nreq2:0");
    await Deno.remove(config);
  }));

Deno.test("the quick parser reads plain command lines exactly as commander does, and no others", async () => {
  const plain = [
    ["read", "c.yml", "-g", "requests", "-i", "5m"],
    ["read", "c.yml", "--group", "requests", "--interval=5m", "--current", "-f", "json"],
    ["read", "c.yml", "--both", "--state", "s.json", "--format=munin", "-g", "g"],
    ["read", "c.yml", "--last", "-g", "a", "-g", "b"],
    ["read", "c.yml", "-f", "prometheus"],
    ["log", "c.yml", "requests", "req1"],
    ["log", "c.yml", "requests", "req1", "3"],
    ["log", "c.yml", "requests", "--stdin"],
    ["log", "c.yml", "requests", "-"],
    ["status", "c.yml", "--format=json"],
    ["status", "c.yml"],
    ["master", "c.yml", "-v"],
    ["serve", "c.yml", "-l", "0.0.0.0:9000"],
  ];
  for (const argv of plain) {
    const quick = quickParse(argv);
    assert.notEqual(quick, undefined, argv.join(" "));
    assert.deepEqual(quick, await commanderParse(argv), argv.join(" "));
  }
  // Left to commander: help, usage errors, and what the quick parser does not read.
  const others = [
    ["read", "c.yml", "--help"],
    ["read", "c.yml", "-w"],
    ["read", "c.yml", "-w", "5"],
    ["read", "c.yml", "--last", "--current"],
    ["read", "c.yml", "-f", "xml"],
    ["read", "c.yml", "-gx"],
    ["read", "c.yml", "-g", "-i"],
    ["read", "c.yml", "--bogus"],
    ["read"],
    ["read", "a", "b"],
    ["log", "c.yml"],
    ["log", "c.yml", "g", "e", "-1"],
    ["log", "c.yml", "g", "--", "-e"],
    ["master", "c.yml", "--verbose=yes"],
    ["frobnicate"],
    ["toString", "c.yml"],
  ];
  for (const argv of others) assert.equal(quickParse(argv), undefined, argv.join(" "));
});

Deno.test("ecl --help, printed without loading commander, is commander's help", async () => {
  assert.equal(topLevelHelp(), await commanderHelp());
  const help = await runCli(["--help"]);
  assert.deepEqual([help.code, help.stdout], [0, topLevelHelp()]);
});

Deno.test("ecl master -v: skips periods groups (one line each); with only periods groups it idles and exits 0 on SIGTERM", () =>
  withRedis(async (server) => {
    const redis = `redis: {host: 127.0.0.1, port: ${server.port}}\n`;
    const periods = "  p:\n    layout: periods\n    intervals: [1m]\n";
    const mixed = await writeConfig(`${redis}groups:\n${periods}  old:\n    intervals: [1m]\n`);
    const only = await writeConfig(`${redis}groups:\n${periods}`);
    /** Run `ecl master` until its stderr matches `until`, then stop it with SIGTERM. */
    const read = async (args: string[], until: RegExp) => {
      const child = startScript("cli.ts", ["master", ...args]);
      await child.until(`${until}`, (c) => until.test(c.stderr));
      child.kill("SIGTERM");
      const output = await child.exit();
      return { text: output.stderr, status: output };
    };
    // Group p was in the python layout before: its old keys are found and named at start.
    await (await server.client()).set("p:1m:cur:@ts", "60");
    try {
      const first = await read(
        [mixed, "-v"],
        /master .* started: 1 groups, 1 intervals/,
      );
      assert.equal(first.status.code, 0, first.text);
      assert.match(first.text, /group p uses layout periods: no rotation needed/);
      assert.match(
        first.text,
        /group "p", interval 1m: Redis holds counts in layout "python", but the group uses layout "periods": they are not read/,
      );
      assert.doesNotMatch(first.text, /group "old".*Redis holds counts/);
      const idle = await read([only], /idle until stopped/);
      assert.equal(idle.status.code, 0, idle.text);
      assert.match(idle.text, /no group needs a master/);
      assert.doesNotMatch(idle.text, /ERROR/);
    } finally {
      await Deno.remove(mixed);
      await Deno.remove(only);
    }
  }));

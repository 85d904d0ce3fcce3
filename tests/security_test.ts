/**
 * Security: TLS (`rediss://`, `tls.ca_file`) against a redis-server that speaks only TLS with a
 * throwaway CA; the ACL users of docs/acl.md; and passwords that never show in any output.
 */
import assert from "node:assert/strict";
import { EventCountLogger, RedisError } from "../mod.ts";
import { type ProcessResult, runCli, startScript, writeConfig } from "./_process.ts";
import { freePort, makeTlsFiles, type RawClient, type RedisServer, withRedis } from "./_redis.ts";
import { sleep, within } from "./_wait.ts";

const GROUPS_YAML = `groups:
  requests:
    events: [req1, req2]
    auto_declare_events: true
    intervals: [5s, 5m]
    totals: true
  clients:
    auto_declare_events: true
    intervals: [1m]
`;

const GROUPS = {
  requests: {
    events: ["req1", "req2"],
    auto_declare_events: true,
    intervals: ["5s", "5m"],
    totals: true,
  },
};

/** A password to look for in every output. */
const SECRET = "Zq7-never-print-me-9xW";
const LOGGER_PASSWORD = "logger-pw-4d1";
const READER_PASSWORD = "reader-pw-8c2";
const MASTER_PASSWORD = "master-pw-0b7";
const WEB_LOGGER_PASSWORD = "web-logger-pw-5e3";
const WEB_READER_PASSWORD = "web-reader-pw-1a9";

function config(redisYaml: string): Promise<string> {
  return writeConfig(`redis:\n${redisYaml.replace(/^/gm, "  ")}\n${GROUPS_YAML}`);
}

/** The one line of stderr (and nothing on stdout): no stack trace, no second line. */
function errorLine(result: ProcessResult, code: number): string {
  assert.equal(result.code, code, result.stderr);
  assert.equal(result.stdout, "");
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  return lines[0];
}

function assertNoSecret(what: string, ...texts: string[]): void {
  for (const text of texts) {
    assert.equal(text.includes(SECRET), false, `${what} shows the password:\n${text}`);
  }
}

/** `ecl master` with `args`, stopped with SIGTERM after `ms` unless it ends before. */
/**
 * Run `ecl master ARGS`. With `until`, stop it with SIGTERM once a line of its stderr matches (it
 * has done what the test needs); without, wait for it to exit by itself. Both with deadlines.
 */
async function runMasterFor(
  args: string[],
  until?: RegExp,
  env: Record<string, string> = {},
): Promise<ProcessResult> {
  const child = startScript("cli.ts", ["master", ...args], env);
  if (until !== undefined) {
    await child.waitForLine("stderr", until);
    child.kill("SIGTERM");
  }
  return await child.exit();
}

// --- TLS ----------------------------------------------------------------------------------------

/**
 * A host name and an IP address to reach the TLS server by; the certificate is for both. (SNI takes
 * host names only: lib/node_redis.ts sends no `servername` for an IP address.)
 */
const TLS_HOSTS = [
  { host: "localhost", ignore: false },
  { host: "127.0.0.1", ignore: false },
];

Deno.test("library over TLS with tls.ca_file logs, flushes and reads back exact counts", async (t) => {
  await withRedis(
    async (server) => {
      const raw = await server.client();
      for (const { host, ignore } of TLS_HOSTS) {
        await t.step({
          name: `host ${host}`,
          ignore,
          fn: async () => {
            await raw.flushAll();
            const warnings: string[] = [];
            // The server has no plain TCP port: anything that works here went through TLS.
            const ecl = new EventCountLogger(GROUPS, {
              host,
              port: server.port,
              tls: { ca_file: server.tls!.caFile },
            }, { onWarning: (message) => warnings.push(message) });
            await within("end of ecl.ready()", ecl.ready());
            const requests = ecl.getGroup("requests")!;
            for (let i = 0; i < 1000; i++) requests.log("req1");
            requests.log("req2", 7);
            requests.log("dyn", 2);
            await within("end of ecl.flush()", ecl.flush());
            assert.deepEqual(
              await within(
                "end of requests.getCounts()",
                requests.getCounts("5m", { current: true }),
              ),
              {
                req1: 1000,
                req2: 7,
                dyn: 2,
              },
            );
            assert.equal(await raw.get("requests:5s:cur:req1"), "1000");
            assert.equal(await raw.get("requests:5m:cur:req2"), "7");
            await within("end of ecl.close()", ecl.close());
            assert.deepEqual(warnings, []);
          },
        });
      }
    },
    [],
    { tls: true },
  );
});

Deno.test("ecl log and ecl read over TLS with tls.ca_file, a rediss:// URL, or no check", async (t) => {
  await withRedis(
    async (server) => {
      const raw = await server.client();
      const ca = server.tls!.caFile;
      const port = server.port;
      const cases: { name: string; yaml: string; db: number; ignore: boolean }[] = [];
      for (const { host, ignore } of TLS_HOSTS) {
        cases.push({
          name: `host ${host}, tls.ca_file`,
          yaml: `host: ${host}\nport: ${port}\ntls:\n  ca_file: ${ca}`,
          db: 0,
          ignore,
        }, {
          name: `url rediss://${host}, tls.ca_file`,
          yaml: `url: rediss://${host}:${port}/3\ntls:\n  ca_file: ${ca}`,
          db: 3,
          ignore,
        });
      }
      cases.push({
        name: "tls.reject_unauthorized: false, no CA",
        yaml: `host: localhost\nport: ${port}\ntls:\n  reject_unauthorized: false`,
        db: 0,
        ignore: false,
      });
      for (const { name, yaml, db, ignore } of cases) {
        await t.step({
          name,
          ignore,
          fn: async () => {
            await raw.flushAll();
            const file = await config(yaml);
            const log = await runCli(["log", file, "requests", "req2", "7"]);
            assert.deepEqual(log, { code: 0, stdout: "", stderr: "" });
            assert.equal((await runCli(["log", file, "requests", "new"])).code, 0);
            const read = await runCli(["read", file, "-g", "requests", "-i", "5m", "--current"]);
            assert.deepEqual(read, { code: 0, stdout: "new:1\nreq1:0\nreq2:7\n", stderr: "" });
            await raw.select(db);
            assert.equal(await raw.get("requests:5m:cur:req2"), "7");
            await raw.select(0);
            await Deno.remove(file);
          },
        });
      }
    },
    [],
    { tls: true },
  );
});

Deno.test("ecl over TLS without the right CA exits 3 with one line, no stack trace", () =>
  withRedis(
    async (server) => {
      const port = server.port;
      const otherDir = await Deno.makeTempDir({ prefix: "ecl-other-ca-" });
      const other = await makeTlsFiles(otherDir);
      const cases: [string, string, Record<string, string>][] = [
        ["tls: true (system CAs)", `host: localhost\nport: ${port}\ntls: true`, {}],
        ["another CA", `host: localhost\nport: ${port}\ntls:\n  ca_file: ${other.caFile}`, {}],
        ["ECL_REDIS_URL rediss:// (system CAs)", "port: 1", {
          ECL_REDIS_URL: `rediss://localhost:${port}/0`,
        }],
      ];
      for (const [name, redisYaml, env] of cases) {
        const file = await config(redisYaml);
        const read = await runCli(["read", file, "-g", "requests", "-i", "5m"], env);
        const log = await runCli(["log", file, "requests", "x"], env);
        for (const result of [read, log]) {
          assert.match(
            errorLine(result, 3),
            new RegExp(
              `^ERROR: Cannot connect to Redis at rediss://localhost:${port}/0: .*certificate`,
            ),
            name,
          );
        }
        await Deno.remove(file);
      }
      const missing = await config(
        `host: localhost\nport: ${port}\ntls:\n  ca_file: ${otherDir}/nope.pem`,
      );
      assert.match(
        errorLine(await runCli(["read", missing, "-g", "requests", "-i", "5m"]), 2),
        /^ERROR: redis\.tls\.ca_file: Cannot read TLS file ".*nope\.pem": no such file$/,
      );
      await Deno.remove(missing);
      await Deno.remove(otherDir, { recursive: true });
      const raw = await server.client();
      assert.deepEqual(await raw.keys("*"), []);
    },
    [],
    { tls: true },
  ));

Deno.test("ecl over TLS refuses a certificate for another name", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ecl-other-name-" });
  const files = await makeTlsFiles(dir, "DNS:elsewhere.example");
  await withRedis(
    async (server) => {
      for (const { host, ignore } of TLS_HOSTS) {
        await t.step({
          name: `host ${host}`,
          ignore,
          fn: async () => {
            const file = await config(
              `host: ${host}\nport: ${server.port}\ntls:\n  ca_file: ${files.caFile}`,
            );
            const result = await runCli(["read", file, "-g", "requests", "-i", "5m"]);
            assert.match(
              errorLine(result, 3),
              new RegExp(
                `^ERROR: Cannot connect to Redis at rediss://${host}:${server.port}/0: .*(?:altnames|certificate not valid for name)`,
              ),
            );
            await Deno.remove(file);
          },
        });
      }
    },
    [],
    { tls: files },
  );
  await Deno.remove(dir, { recursive: true });
});

// --- ACL ----------------------------------------------------------------------------------------

/** The `ACL SETUSER` lines of docs/acl.md: user name → rules (password rule `>…` included). */
async function documentedUsers(): Promise<Map<string, string[]>> {
  const text = await Deno.readTextFile(new URL("../docs/acl.md", import.meta.url));
  const users = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const [acl, setuser, name, ...rules] = line.trim().split(/\s+/);
    if (acl === "ACL" && setuser === "SETUSER") users.set(name, rules);
  }
  return users;
}

/** Create the users of docs/acl.md, with `passwords` instead of the documented ones. */
async function createDocumentedUsers(
  raw: RawClient,
  passwords: Record<string, string>,
): Promise<void> {
  const users = await documentedUsers();
  assert.deepEqual([...users.keys()].sort(), Object.keys(passwords).sort());
  for (const [name, rules] of users) {
    const withPassword = rules.map((rule) => rule.startsWith(">") ? `>${passwords[name]}` : rule);
    assert.equal(await raw.sendCommand(["ACL", "SETUSER", name, ...withPassword]), "OK");
  }
  assert.deepEqual(await raw.sendCommand(["ACL", "LOG", "RESET"]), "OK");
}

const DOCUMENTED_PASSWORDS = {
  "ecl-requests": LOGGER_PASSWORD,
  "ecl-reader": READER_PASSWORD,
  "ecl-master": MASTER_PASSWORD,
  "ecl-web": WEB_LOGGER_PASSWORD,
  "ecl-web-reader": WEB_READER_PASSWORD,
};

/** The redis: section of an ACL user on database 1 (so that `SELECT` is needed too). */
function userRedis(server: RedisServer | { port: number }, user: string, password: string) {
  return `host: 127.0.0.1\nport: ${server.port}\ndb: 1\nusername: ${user}\npassword: ${password}`;
}

/** Config of an ACL user on database 1, with the groups of {@link GROUPS_YAML}. */
function userConfig(server: RedisServer | { port: number }, user: string, password: string) {
  return config(userRedis(server, user, password));
}

/** Config of an ACL user on database 1 with one `periods` group, `web` (as in docs/acl.md). */
function webConfig(server: RedisServer, user: string, password: string): Promise<string> {
  return writeConfig(`redis:
${userRedis(server, user, password).replace(/^/gm, "  ")}
groups:
  web:
    layout: periods
    history: 3
    events: [home]
    auto_declare_events: true
    intervals: [1s, 5m]
    totals: true
`);
}

/** Every key of database 1 that matches `pattern`, with its value (a hash's as JSON). */
async function snapshot(
  raw: RawClient,
  pattern = "*",
): Promise<Record<string, string | null>> {
  await raw.select(1);
  const result: Record<string, string | null> = {};
  for (const key of (await raw.keys(pattern)).sort()) {
    result[key] = await raw.type(key) === "hash"
      ? JSON.stringify({ ...await raw.hGetAll(key) })
      : await raw.get(key);
  }
  return result;
}

/** The entries of Redis's ACL LOG (but CLIENT SETINFO on Redis 7.2 or later: see docs/acl.md). */
async function refusedByRedis(raw: RawClient): Promise<unknown[]> {
  return (await raw.sendCommand(["ACL", "LOG"]) as unknown[])
    .filter((entry) => !JSON.stringify(entry).includes("client|setinfo"));
}

/** Wait, when needed, until the next boundary of `seconds` is at least `margin` seconds away. */
async function awayFromBoundary(seconds: number, margin: number): Promise<void> {
  const now = Date.now() / 1000;
  const next = Math.ceil(now / seconds) * seconds;
  if (next - now < margin) {
    await sleep((next - now) * 1000 + 50);
  }
}

Deno.test("the ACL users of docs/acl.md log, read and rotate with nothing refused", () =>
  withRedis(async (server) => {
    // The master below must not rotate requests:5m a second time, at a boundary.
    await awayFromBoundary(300, 5);
    const raw = await server.client();
    await createDocumentedUsers(raw, DOCUMENTED_PASSWORDS);
    const logger = await userConfig(server, "ecl-requests", LOGGER_PASSWORD);
    const reader = await userConfig(server, "ecl-reader", READER_PASSWORD);
    const master = await userConfig(server, "ecl-master", MASTER_PASSWORD);

    // The first write runs EVALSHA, then EVAL (the script is not cached yet); the next EVALSHA.
    assert.deepEqual(await runCli(["log", logger, "requests", "req1", "3"]), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    const warnings: string[] = [];
    const ecl = new EventCountLogger(
      GROUPS,
      {
        host: "127.0.0.1",
        port: server.port,
        db: 1,
        username: "ecl-requests",
        password: LOGGER_PASSWORD,
      },
      { onWarning: (message) => warnings.push(message) },
    );
    const requests = ecl.getGroup("requests")!;
    requests.log("req2", 5);
    requests.log("dyn");
    await within("end of ecl.flush()", ecl.flush());
    assert.deepEqual(
      await within("end of requests.getCounts()", requests.getCounts("5m", { current: true })),
      {
        dyn: 1,
        req1: 3,
        req2: 5,
      },
    );
    await within("end of ecl.close()", ecl.close());
    assert.deepEqual(warnings, []);

    const current = await runCli(["read", reader, "-g", "requests", "-i", "5m", "--current"]);
    assert.deepEqual(current, { code: 0, stdout: "dyn:1\nreq1:3\nreq2:5\n", stderr: "" });

    // The master's first rotation moves everything to last: GET, SET, DEL, SCAN and RENAME (of
    // the dynamic event), and the lease.
    const run = await runMasterFor(
      ["-v", master],
      /rotated requests:5m at [\s\S]*rotated clients:1m at |rotated clients:1m at [\s\S]*rotated requests:5m at /,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /warning|ERROR/, run.stderr);
    assert.match(run.stderr, /rotated requests:5m at .*: 3 events/);
    assert.match(run.stderr, /this master now leads/);
    const last = await runCli(["read", reader, "-g", "requests", "-i", "5m"]);
    assert.equal(last.stdout, "dyn:1\nreq1:3\nreq2:5\n", last.stderr);
    const values = await snapshot(raw);
    assert.equal(values["requests:5m:last:dyn"], "1");
    assert.equal(values["requests:5m:cur:req1"], "0");
    assert.equal(values["@ecl:master"], undefined, "the master gave the lease up");
    assert.match(values["clients:1m:cur:@ts"] ?? "", /^\d+$/);

    // The reader reads the totals and the lease (ecl read -f prometheus, as ecl serve does).
    const metrics = await runCli(["read", reader, "-f", "prometheus", "-g", "requests"]);
    assert.equal(metrics.code, 0, metrics.stderr);
    assert.match(metrics.stdout, /^ecl_redis_up 1$/m);
    assert.match(metrics.stdout, /^ecl_events_total\{group="requests",event="req1"\} 3$/m);

    // A periods group: logged by ecl-web, read (current, history, totals) by ecl-web-reader.
    await awayFromBoundary(300, 5);
    const webLogger = await webConfig(server, "ecl-web", WEB_LOGGER_PASSWORD);
    const webReader = await webConfig(server, "ecl-web-reader", WEB_READER_PASSWORD);
    for (const args of [["home", "2"], ["dyn"]]) {
      assert.deepEqual(await runCli(["log", webLogger, "web", ...args]), {
        code: 0,
        stdout: "",
        stderr: "",
      });
    }
    const loggedBy = Date.now() / 1000;
    assert.deepEqual(
      await runCli(["read", webReader, "-g", "web", "-i", "5m", "--current"]),
      { code: 0, stdout: "dyn:1\nhome:2\n", stderr: "" },
    );
    // Every 1s period written to has finished (Redis runs on this host's clock).
    await sleep((Math.floor(loggedBy) + 1 - Date.now() / 1000) * 1000 + 100);
    const history = await runCli(["read", webReader, "-g", "web", "-i", "1s", "--history", "3"]);
    assert.equal(history.code, 0, history.stderr);
    const logged: Record<string, number> = {};
    for (const line of history.stdout.split("\n")) {
      const match = /^(home|dyn):(\d+)$/.exec(line);
      if (match) logged[match[1]] = (logged[match[1]] ?? 0) + Number(match[2]);
    }
    assert.deepEqual(logged, { dyn: 1, home: 2 }, history.stdout);
    const webMetrics = await runCli(["read", webReader, "-f", "prometheus", "-g", "web"]);
    assert.equal(webMetrics.code, 0, webMetrics.stderr);
    assert.match(webMetrics.stdout, /^ecl_events_total\{group="web",event="home"\} 2$/m);
    assert.deepEqual(await raw.keys("{web:*:w:*"), [], "ecl log released its writer keys");
    assert.deepEqual(await refusedByRedis(raw), []);
    // The reader may not write (refused before anything is written).
    const webDenied = await runCli(["log", webReader, "web", "home"]);
    assert.match(
      errorLine(webDenied, 3),
      /^ERROR: Cannot write counts of web:(1s|5m) in Redis at .*NOPERM/,
    );
    await raw.sendCommand(["ACL", "LOG", "RESET"]);
    for (const file of [webLogger, webReader]) await Deno.remove(file);

    // Redis refused nothing.
    assert.deepEqual(await refusedByRedis(raw), []);

    // The reader may not write.
    const denied = await runCli(["log", reader, "requests", "req1"]);
    assert.match(
      errorLine(denied, 3),
      new RegExp(
        `^ERROR: Cannot write counts of requests:(5s|5m) in Redis at redis://ecl-reader@127\\.0\\.0\\.1:${server.port}/1: NOPERM`,
      ),
    );
    for (const file of [logger, reader, master]) await Deno.remove(file);
  }));

Deno.test("a wrong password exits 3 with one line naming address and user, not the password", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    await createDocumentedUsers(raw, DOCUMENTED_PASSWORDS);
    const wrong = await userConfig(server, "ecl-requests", SECRET);
    const expected = new RegExp(
      `^ERROR: Cannot connect to Redis at redis://ecl-requests@127\\.0\\.0\\.1:${server.port}/1: WRONGPASS invalid username-password pair`,
    );
    for (
      const args of [
        ["log", wrong, "requests", "req1"],
        ["read", wrong, "-g", "requests", "-i", "5m"],
        ["master", "-v", wrong],
      ]
    ) {
      const result = await runCli(args);
      assert.match(errorLine(result, 3), expected, args[0]);
      assertNoSecret(args[0], result.stderr);
    }
    // An unknown user: the same.
    const nobody = await userConfig(server, "nobody", SECRET);
    const result = await runCli(["read", nobody, "-g", "requests", "-i", "5m"]);
    assert.match(errorLine(result, 3), /redis:\/\/nobody@127\.0\.0\.1:\d+\/1: WRONGPASS/);
    assertNoSecret("unknown user", result.stderr);
    assert.deepEqual(await snapshot(raw), {});
    await Deno.remove(wrong);
    await Deno.remove(nobody);
  }));

Deno.test("a logger user of one group cannot touch another group's keys", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    await createDocumentedUsers(raw, DOCUMENTED_PASSWORDS);
    await raw.select(1);
    await raw.mSet({
      "clients:1m:cur:a": "5",
      "clients:1m:last:a": "4",
      "clients:1m:cur:@ts": "1700000000",
    });
    const before = await snapshot(raw, "clients:*");
    const logger = await userConfig(server, "ecl-requests", LOGGER_PASSWORD);
    const address = `redis://ecl-requests@127\\.0\\.0\\.1:${server.port}/1`;

    const log = await runCli(["log", logger, "clients", "a", "100"]);
    assert.match(
      errorLine(log, 3),
      new RegExp(`^ERROR: Cannot write counts of clients:1m in Redis at ${address}: NOPERM`),
    );
    const read = await runCli(["read", logger, "-g", "clients", "--current"]);
    assert.match(
      errorLine(read, 3),
      new RegExp(`^ERROR: Cannot read from Redis at ${address}: NOPERM`),
    );

    // The library: the write is refused with a RedisError, nothing changes.
    const warnings: string[] = [];
    const ecl = new EventCountLogger(
      { clients: { auto_declare_events: true, intervals: ["1m"] } },
      {
        host: "127.0.0.1",
        port: server.port,
        db: 1,
        username: "ecl-requests",
        password: LOGGER_PASSWORD,
      },
      { onWarning: (message) => warnings.push(message) },
    );
    ecl.getGroup("clients")!.log("a", 100);
    await assert.rejects(within("end of ecl.flush()", ecl.flush()), (error) => {
      assert.ok(error instanceof RedisError);
      assert.match(error.message, /NOPERM/);
      return true;
    });
    await within("end of ecl.close()", ecl.close({ timeoutMs: 500 })).catch(() => {});

    // Nor can it take the master lease: a master with this user exits 3 at start, saying why.
    const master = await runMasterFor([logger]);
    assert.equal(master.code, 3, master.stderr);
    assert.match(
      master.stderr,
      new RegExp(`\nERROR: Cannot renew the master lease in Redis at ${address}: NOPERM`),
    );
    assert.doesNotMatch(master.stderr, /now leads/);

    assert.deepEqual(await snapshot(raw, "clients:*"), before);
    await Deno.remove(logger);
  }));

// --- No password in any output --------------------------------------------------------------------

Deno.test("no output of ecl shows the password: unreachable, wrong password, running", async (t) => {
  await withRedis(async (server) => {
    const raw = await server.client();
    // ecl-requests has another password: SECRET is wrong. ecl-admin may do anything with SECRET.
    await createDocumentedUsers(raw, DOCUMENTED_PASSWORDS);
    await raw.sendCommand(["ACL", "SETUSER", "ecl-admin", "on", `>${SECRET}`, "~*", "+@all"]);
    const unreachable = await freePort();
    const targets: [string, number, string, number][] = [
      ["unreachable", unreachable, "ecl-requests", 3],
      ["wrong password", server.port, "ecl-requests", 3],
      ["right password", server.port, "ecl-admin", 0],
    ];
    for (const [target, port, user, code] of targets) {
      const ways: [string, string, Record<string, string>][] = [
        [
          "password key",
          `host: 127.0.0.1\nport: ${port}\ndb: 1\nusername: ${user}\npassword: ${SECRET}`,
          {},
        ],
        ["url", `url: redis://${user}:${SECRET}@127.0.0.1:${port}/1`, {}],
        ["ECL_REDIS_URL", `host: 127.0.0.1\nport: ${port}`, {
          ECL_REDIS_URL: `redis://${user}:${SECRET}@127.0.0.1:${port}/1`,
        }],
      ];
      for (const [way, redisYaml, env] of ways) {
        await t.step(`${target}, ${way}`, async () => {
          const file = await config(redisYaml);
          const [log, read, master, readHelp, help] = await Promise.all([
            runCli(["log", file, "requests", "req1"], env),
            runCli(["read", file, "-g", "requests", "-i", "5m"], env),
            // Stopped once it leads; on a failure it exits by itself.
            runMasterFor(["-v", file], code === 0 ? /this master now leads/ : undefined, env),
            runCli(["read", "--help"], env),
            runCli(["--help"], env),
          ]);
          for (const [name, result] of Object.entries({ log, read, master, readHelp, help })) {
            assertNoSecret(name, result.stdout, result.stderr);
          }
          assert.equal(log.code, code, log.stderr);
          assert.equal(read.code, code, read.stderr);
          assert.equal(master.code, code, master.stderr);
          assert.equal(readHelp.code, 0);
          assert.equal(help.code, 0);
          // Every message names the user and the address instead.
          const address = `redis://${user}@127.0.0.1:${port}/1`;
          for (const result of [log, read, master]) {
            if (result.code !== 0) assert.ok(result.stderr.includes(address), result.stderr);
          }
          if (code === 0) assert.ok(master.stderr.includes(`Redis at ${address}`), master.stderr);
          await Deno.remove(file);
        });
      }
    }
  });
});

Deno.test("configuration errors never show the password", async (t) => {
  const cases: [string, string, Record<string, string>][] = [
    ["password of the wrong type", `password: [${SECRET}]`, {}],
    ["password as a mapping", `password: {${SECRET}: 1}`, {}],
    ["misspelt password key", `pasword: ${SECRET}`, {}],
    ["URL with a bad port", `url: redis://u:${SECRET}@127.0.0.1:99999/0`, {}],
    ["URL with a bad scheme", `url: http://u:${SECRET}@127.0.0.1:1/0`, {}],
    ["URL with a bad %-escape in the password", `url: redis://u:%zz${SECRET}@127.0.0.1:1/0`, {}],
    ["URL with a bad database", `url: redis://u:${SECRET}@127.0.0.1:1/x`, {}],
    ["URL with '@' and ':' in the password", `url: "redis://u:a@b:${SECRET}@[::1/0"`, {}],
    ["ECL_REDIS_URL with a bad port", "port: 1", {
      ECL_REDIS_URL: `redis://u:${SECRET}@127.0.0.1:99999/0`,
    }],
    ["ECL_REDIS_URL not a URL", "port: 1", { ECL_REDIS_URL: `u:${SECRET}@127.0.0.1` }],
  ];
  for (const [name, redisYaml, env] of cases) {
    await t.step(name, async () => {
      const file = await config(redisYaml);
      const result = await runCli(["read", file, "-g", "requests", "-i", "5m"], env);
      const line = errorLine(result, 2);
      assert.match(line, /^ERROR: /);
      assertNoSecret(name, line);
      await Deno.remove(file);
    });
  }
});

Deno.test("library: errors and warnings never show the password", async (t) => {
  const collect = () => {
    const warnings: string[] = [];
    return { warnings, onWarning: (message: string) => warnings.push(message) };
  };

  await t.step("Redis unreachable from the start", async () => {
    const port = await freePort();
    const { warnings, onWarning } = collect();
    const ecl = new EventCountLogger(
      GROUPS,
      { host: "127.0.0.1", port, username: "someone", password: SECRET },
      { onWarning },
    );
    const error = await within("end of ecl.ready()", ecl.ready()).then(
      () => undefined,
      (error) => error,
    );
    assert.ok(error instanceof RedisError);
    assert.match(error.message, new RegExp(`redis://someone@127\\.0\\.0\\.1:${port}/0: `));
    assertNoSecret("error", error.message, Deno.inspect(error, { depth: 10 }));
    ecl.getGroup("requests")!.log("req1");
    // Reconnection attempts go on meanwhile (after 100 ms, 200 ms, 400 ms, …).
    await sleep(700);
    await within("end of ecl.close()", ecl.close({ timeoutMs: 200 }));
    assert.ok(warnings.some((warning) => /^Closed with \d+ counts not written/.test(warning)));
    assertNoSecret("warnings", ...warnings);
  });

  await t.step("wrong password", () =>
    withRedis(async (server) => {
      await createDocumentedUsers(await server.client(), DOCUMENTED_PASSWORDS);
      const { warnings, onWarning } = collect();
      const ecl = new EventCountLogger(
        GROUPS,
        { host: "127.0.0.1", port: server.port, username: "ecl-requests", password: SECRET },
        { onWarning },
      );
      const error = await within("end of ecl.ready()", ecl.ready()).then(() => undefined, (error) =>
        error);
      assert.ok(error instanceof RedisError);
      assert.match(error.message, /redis:\/\/ecl-requests@127\.0\.0\.1:\d+\/0: WRONGPASS/);
      assertNoSecret("error", error.message, Deno.inspect(error, { depth: 10 }));
      ecl.getGroup("requests")!.log("req1");
      await sleep(700);
      await within("end of ecl.close()", ecl.close({ timeoutMs: 200 }));
      assert.ok(warnings.length > 0);
      assertNoSecret("warnings", ...warnings);
    }));

  await t.step("Redis killed and restarted while logging", () =>
    withRedis(async (server) => {
      const { warnings, onWarning } = collect();
      const ecl = new EventCountLogger(
        GROUPS,
        { url: `redis://:${SECRET}@127.0.0.1:${server.port}/0` },
        { onWarning },
      );
      const requests = ecl.getGroup("requests")!;
      requests.log("req1");
      await within("end of requests.flush()", requests.flush());
      await server.kill();
      requests.log("req1");
      await sleep(500);
      await server.restart();
      await within("end of ecl.close()", ecl.close());
      const raw = await server.client({ password: SECRET });
      // The first count died with the server (no persistence); the second was kept and written.
      assert.equal(await raw.get("requests:5m:cur:req1"), "1");
      const address = `redis://127.0.0.1:${server.port}/0`;
      assert.ok(
        warnings.some((w) => w.startsWith(`Cannot reach Redis at ${address}: `)),
        String(warnings),
      );
      assert.ok(warnings.includes(`Reconnected to Redis at ${address}`), String(warnings));
      assertNoSecret("warnings", ...warnings);
    }, ["--requirepass", SECRET]));
});

Deno.test("a user missing a command ecl needs is refused before anything is written", async (t) => {
  await withRedis(async (server) => {
    const raw = await server.client();
    const users = await documentedUsers();
    const without = async (name: string, user: string, command: string, password: string) => {
      const rules = users.get(name)!.filter((rule) => rule !== `+${command}`)
        .map((rule) => rule.startsWith(">") ? `>${password}` : rule);
      assert.equal(await raw.sendCommand(["ACL", "SETUSER", user, ...rules]), "OK");
    };
    await t.step(
      "a logger without INCRBY: ecl log exits 3, the count is not lost silently",
      async () => {
        await without("ecl-requests", "no-incrby", "incrby", LOGGER_PASSWORD);
        const file = await userConfig(server, "no-incrby", LOGGER_PASSWORD);
        const result = await runCli(["log", file, "requests", "req1", "2"]);
        assert.match(
          errorLine(result, 3),
          /^ERROR: Cannot write counts of requests:\S+ in Redis at .*: NOPERM /,
        );
        assert.deepEqual(await snapshot(raw, "requests:*"), {});
        await Deno.remove(file);
      },
    );
    await t.step("a master without DEL: exits 3 at start, no rotation half done", async () => {
      await raw.select(1);
      await raw.set("requests:5m:cur:req1", "3");
      const before = await snapshot(raw, "requests:*");
      await without("ecl-master", "no-del", "del", MASTER_PASSWORD);
      const file = await userConfig(server, "no-del", MASTER_PASSWORD);
      const result = await runMasterFor([file]);
      assert.equal(result.code, 3, result.stderr);
      assert.match(result.stderr, /ERROR: Cannot rotate requests:\S+ in Redis at .*: NOPERM /);
      assert.deepEqual(await snapshot(raw, "requests:*"), before);
      await Deno.remove(file);
    });
  });
});

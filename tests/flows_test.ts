/**
 * The documented flows as users run them: the systemd units' command lines (deploy/), `ecl log`,
 * `ecl log --stdin`, `ecl read`, `ecl status` and `ecl serve` (metrics, health, dashboard), all
 * through an `ecl` executable that runs the CLI bundle with exactly the binaries' permissions
 * (tests/_bundle.ts), for a predeclared and an auto-declared group. Munin's flows (munin-run,
 * munin-node, MUNIN_PLUGSTATE) run the same executable in munin_test.ts.
 */
import assert from "node:assert/strict";
import { PERMISSIONS } from "../scripts/_permissions.ts";
import { writeEclBinary } from "./_bundle.ts";
import { type ProcessResult, writeConfig } from "./_process.ts";
import { freePort, withRedis } from "./_redis.ts";
import { WaitFailed, waitFor, within } from "./_wait.ts";

const ROOT = new URL("..", import.meta.url).pathname;
/** What systemd gives a service: a fixed PATH, no HOME of ours, the root directory. */
const SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The settings of a unit's [Service] section that say how it runs and stops. */
interface Unit {
  readonly name: string;
  readonly execStart: string;
  readonly killSignal: Deno.Signal;
  readonly timeoutStopSec: number;
  /** The commented-out `#EnvironmentFile=` line is there (README: keeps the password out). */
  readonly environmentFile: boolean;
}

async function readUnit(name: string): Promise<Unit> {
  const text = await Deno.readTextFile(`${ROOT}deploy/${name}`);
  const settings = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) settings.set(match[1], match[2]);
  }
  const get = (key: string) => {
    const value = settings.get(key);
    assert.ok(value !== undefined, `deploy/${name}: no ${key}=`);
    return value;
  };
  return {
    name,
    execStart: get("ExecStart"),
    killSignal: get("KillSignal") as Deno.Signal,
    timeoutStopSec: Number(get("TimeoutStopSec")),
    environmentFile: /^#EnvironmentFile=\/etc\/ecl\/ecl\.env$/m.test(text),
  };
}

/**
 * The unit's ExecStart as an argument list, with each of `replace`'s keys (the installed paths)
 * replaced: every key must be there exactly once, so that a changed unit fails here.
 */
function commandLine(unit: Unit, replace: Record<string, string>): string[] {
  assert.doesNotMatch(unit.execStart, /["'\\$%]/, "no quoting or specifiers to interpret");
  const words = unit.execStart.trim().split(/\s+/);
  for (const [from, to] of Object.entries(replace)) {
    assert.equal(words.filter((word) => word === from).length, 1, `${unit.name}: ${from}`);
    words[words.indexOf(from)] = to;
  }
  return words;
}

/** A service started as systemd starts it, with its stderr collected. */
class Service {
  readonly #child: Deno.ChildProcess;
  #stderr = "";
  #exited = false;
  readonly #done: Promise<void>;

  constructor(readonly unit: Unit, argv: string[], env: Record<string, string> = {}) {
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      clearEnv: true,
      env: { PATH: SYSTEMD_PATH, LANG: "C.UTF-8", ...env },
      cwd: "/",
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#done = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        this.#stderr += chunk;
      }
      this.#exited = true;
    })();
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Waits for a line of stderr matching `pattern`; returns its match. */
  async line(pattern: RegExp): Promise<RegExpExecArray> {
    let match: RegExpExecArray | null = null;
    await waitFor(`${this.unit.name}: a line ${pattern} (stderr: ${this.#stderr})`, () => {
      match = pattern.exec(this.#stderr);
      if (match === null && this.#exited) {
        throw new WaitFailed(
          `${this.unit.name} exited before printing ${pattern}: ${this.#stderr}`,
        );
      }
      return Promise.resolve(match !== null);
    });
    return match!;
  }

  /** Stops it as `systemctl stop` does (KillSignal), and returns its exit code. */
  async stop(): Promise<number> {
    try {
      this.#child.kill(this.unit.killSignal);
    } catch {
      // It exited already: its exit code tells.
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.unit.name}: still running ${this.unit.timeoutStopSec} s after ${this.unit.killSignal}`,
            ),
          ),
        this.unit.timeoutStopSec * 1000,
      );
    });
    try {
      const status = await Promise.race([this.#child.status, limit]);
      await this.#done;
      return status.code;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Run the `ecl` executable to its end, with `input` on stdin. */
async function run(ecl: string, args: string[], input = ""): Promise<ProcessResult> {
  const child = new Deno.Command(ecl, {
    args,
    clearEnv: true,
    env: { PATH: SYSTEMD_PATH },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await within("end of writer.close()", writer.close());
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}

const GROUPS = `groups:
  web:
    events: [home, about]
    intervals: [1s, 1h]
  clients:
    auto_declare_events: true
    intervals: [1s, 1h]
`;

Deno.test("flows: deno task ecl runs cli.ts with exactly the binaries' permissions", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
  assert.equal(tasks.ecl, `deno run ${PERMISSIONS.join(" ")} cli.ts`);
});

Deno.test("flows: the systemd units' command lines, log, log --stdin, read, status and serve, from the bundle", () =>
  withRedis(async (server) => {
    const dir = await Deno.makeTempDir({ prefix: "ecl-flows-" });
    const ecl = await writeEclBinary(dir);
    // Like /etc/ecl/ecl.yml; and without the redis: section, for ECL_REDIS_URL (ecl.env).
    const config = await writeConfig(
      `redis:\n  host: 127.0.0.1\n  port: ${server.port}\n${GROUPS}`,
    );
    const bare = await writeConfig(GROUPS);
    const masterUnit = await readUnit("ecl-master.service");
    const serveUnit = await readUnit("ecl-serve.service");
    const installed = { "/usr/local/bin/ecl": ecl, "/etc/ecl/ecl.yml": config };
    const master = new Service(masterUnit, commandLine(masterUnit, installed));
    let serve: Service | undefined;
    try {
      await master.line(/^ecl: this master now leads \(holds the lease\)$/m);

      // Predeclared and auto-declared events, one by one and from stdin.
      const one = await run(ecl, ["log", config, "web", "home", "3"]);
      assert.deepEqual([one.code, one.stdout, one.stderr], [0, "", ""]);
      const dynamic = await run(ecl, ["log", config, "clients", "10.0.0.9"]);
      assert.deepEqual([dynamic.code, dynamic.stderr], [0, ""]);
      const web = await run(ecl, ["log", config, "web", "--stdin"], "home\nabout 2\n");
      assert.deepEqual(
        [web.code, web.stderr],
        [0, "ecl: logged 3 events, 2 distinct, 0 rejected\n"],
      );
      const clients = await run(
        ecl,
        ["log", config, "clients", "--stdin"],
        "10.0.0.1\n10.0.0.2 5\n10.0.0.1\n",
      );
      assert.deepEqual(
        [clients.code, clients.stderr],
        [0, "ecl: logged 7 events, 2 distinct, 0 rejected\n"],
      );
      const undeclared = await run(ecl, ["log", config, "web", "--stdin"], "contact\n");
      assert.equal(undeclared.code, 1, undeclared.stderr);

      const read = (group: string) =>
        run(ecl, ["read", config, "-g", group, "-i", "1h", "--current"]);
      assert.deepEqual(await read("web"), { code: 0, stdout: "about:2\nhome:4\n", stderr: "" });
      assert.deepEqual(await read("clients"), {
        code: 0,
        stdout: "10.0.0.1:2\n10.0.0.2:5\n10.0.0.9:1\n",
        stderr: "",
      });

      // The master leads and rotates every interval on time: Nagios OK.
      let status: ProcessResult | undefined;
      await waitFor("ecl status OK", async () => {
        status = await run(ecl, ["status", config]);
        return status.code === 0;
      });
      assert.match(
        status!.stdout,
        /^ECL OK - redis up, master lease held by \S+, 4 intervals rotated on time\n/,
      );

      // ecl serve as its unit runs it, with the password-free config and ECL_REDIS_URL
      // (EnvironmentFile=/etc/ecl/ecl.env).
      assert.ok(serveUnit.environmentFile, "ecl-serve.service mentions /etc/ecl/ecl.env");
      const port = await freePort();
      serve = new Service(
        serveUnit,
        commandLine(serveUnit, {
          ...installed,
          "/etc/ecl/ecl.yml": bare,
          "127.0.0.1:9464": `127.0.0.1:${port}`,
        }),
        { ECL_REDIS_URL: `redis://127.0.0.1:${server.port}` },
      );
      await serve.line(new RegExp(`^ecl: serving http://127\\.0\\.0\\.1:${port}/metrics$`, "m"));
      assert.deepEqual(await get(`http://127.0.0.1:${port}/healthz`), {
        status: 200,
        body: "ok\n",
      });
      const metrics = await get(`http://127.0.0.1:${port}/metrics`);
      assert.equal(metrics.status, 200);
      for (
        const line of [
          'ecl_events_current{group="web",interval="1h",event="home"} 4',
          'ecl_events_current{group="web",interval="1h",event="about"} 2',
          'ecl_events_current{group="clients",interval="1h",event="10.0.0.2"} 5',
          "ecl_redis_up 1",
        ]
      ) {
        assert.ok(metrics.body.split("\n").includes(line), `${line} in:\n${metrics.body}`);
      }
      // The dashboard and its API.
      const page = await get(`http://127.0.0.1:${port}/`);
      assert.equal(page.status, 200);
      assert.match(page.body, /^<!DOCTYPE html>/i);
      for (const path of ["/api/groups", "/api/counts", "/api/history"]) {
        const api = await get(`http://127.0.0.1:${port}${path}`);
        assert.equal(api.status, 200, `${path}: ${api.body}`);
        JSON.parse(api.body);
      }
    } finally {
      const served = serve === undefined ? 0 : await serve.stop();
      const stopped = await master.stop();
      assert.equal(served, 0, serve?.stderr);
      assert.equal(stopped, 0, master.stderr);
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(config);
      await Deno.remove(bare);
    }
    assert.match(master.stderr, /^ecl: master stopping \(SIGTERM\)$/m);
    assert.match(serve!.stderr, /ecl: serve stopping \(SIGTERM\)\n$/);
  }));

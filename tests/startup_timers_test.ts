/**
 * A one-shot writer calls no global timer function: `ecl log` (one event, or standard input:
 * log, write, close), from the bundle the binaries run and from source, and a short-lived
 * library user in direct mode (log, flush, close). In Deno 2.9 the global `setTimeout`,
 * `setInterval`, `setImmediate` and their `clear…` (even `clearTimeout(undefined)`) are Node's
 * timers, loaded at the first call (~5 ms and ~4 MiB of a ~20 ms process). A structural check,
 * with a spy preloaded into the child (tests/_timer_spy.ts); the effect is measured by
 * `deno task bench --only cli-`, never timed here. Long-running users keep their timers: the
 * boundary timer while counts wait in the open window, retries after failures, `sync_interval`.
 */
import assert from "node:assert/strict";
import { PERMISSIONS } from "../scripts/_permissions.ts";
import { eclBundle } from "./_bundle.ts";
import { Child, type ProcessResult, writeConfig } from "./_process.ts";
import { withRedis } from "./_redis.ts";

/** The spy, preloaded into children only (importing it would spy on this process). */
const SPY = new URL("./_timer_spy.ts", import.meta.url).pathname;
/** What each line the spy prints starts with. */
const SPY_MARK = "ecl-timer-spy:";

/** `deno ARGS` with the spy preloaded (`args` start after `run`), `input` on its stdin. */
async function spied(args: string[], input?: string): Promise<ProcessResult> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--preload", SPY, ...args],
    cwd: new URL("..", import.meta.url).pathname,
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const process = command.spawn();
  const child = new Child(process, `deno run ${args.join(" ")}`);
  if (input !== undefined) {
    const writer = process.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
  }
  return await child.exit();
}

/** The lines of the spy in `result`'s stderr, after checking that the child succeeded. */
function timerCalls(result: ProcessResult): string[] {
  assert.equal(result.code, 0, result.stderr);
  return result.stderr.split("\n").filter((line) => line.startsWith(SPY_MARK));
}

function configYaml(port: number): string {
  return `redis:
  host: 127.0.0.1
  port: ${port}
groups:
  g:
    events: [a, b]
    intervals: [1m, 1h]
  cached:
    events: [a]
    intervals: [1h]
    sync_interval: 30
`;
}

Deno.test("the timer spy reports a call of a global timer function (clearTimeout(undefined))", async () => {
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(script, "clearTimeout(undefined);\n");
    const result = await spied(["--no-config", script]);
    assert.deepEqual(timerCalls(result).map((line) => line.split(" ")[1]), ["clearTimeout"]);
  } finally {
    await Deno.remove(script);
  }
});

Deno.test("the bundle: ecl log (one event, a cached group, --stdin) calls no timer function", () =>
  withRedis(async (server) => {
    const config = await writeConfig(configYaml(server.port));
    const ecl = ["--no-config", ...PERMISSIONS, await eclBundle()];
    try {
      // Redis has no script loaded at first (EVALSHA, NOSCRIPT, EVAL), then has it (EVALSHA).
      for (const count of ["2", "3"]) {
        const result = await spied([...ecl, "log", config, "g", "a", count]);
        assert.deepEqual(timerCalls(result), [], "ecl log g a");
        assert.equal(result.stderr, "");
      }
      // One event is written at close(): the group's cache would only add a timer.
      const cached = await spied([...ecl, "log", config, "cached", "a", "4"]);
      assert.deepEqual(timerCalls(cached), [], "ecl log cached a");
      const stdin = await spied([...ecl, "log", config, "g", "--stdin"], "a\nb 3\n");
      assert.deepEqual(timerCalls(stdin), [], "ecl log --stdin");
      const raw = await server.client();
      assert.deepEqual(
        await raw.mGet(["g:1m:cur:a", "g:1h:cur:a", "g:1h:cur:b", "cached:1h:cur:a"]),
        ["6", "6", "3", "4"],
      );
      // Every writer released its records: nothing was left to resend.
      assert.deepEqual(await raw.keys("*:@w:*"), []);
    } finally {
      await Deno.remove(config);
    }
  }));

Deno.test("from source: ecl log and a short-lived library user in direct mode call no timer function", () =>
  withRedis(async (server) => {
    const config = await writeConfig(configYaml(server.port));
    try {
      const log = await spied(["-A", "cli.ts", "log", config, "g", "a", "2"]);
      assert.deepEqual(timerCalls(log), [], "ecl log g a");
      const stdin = await spied(["-A", "cli.ts", "log", config, "g", "--stdin"], "b\na 3\n");
      assert.deepEqual(timerCalls(stdin), [], "ecl log --stdin");
      const library = await spied(["-A", "tests/_direct_once.ts", config, "g", "b"]);
      assert.deepEqual(timerCalls(library), [], "log, flush, log, close");
      const raw = await server.client();
      assert.deepEqual(await raw.mGet(["g:1h:cur:a", "g:1h:cur:b"]), ["5", "113"]);
      assert.deepEqual(await raw.keys("*:@w:*"), []);
    } finally {
      await Deno.remove(config);
    }
  }));

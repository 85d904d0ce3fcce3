/**
 * Workload 6: wall time of one-shot CLI commands, `ecl read …` and `ecl log …` (4 events), from a
 * warm cache: run from the CLI bundle that the binaries are compiled from (`deno task bundle`,
 * dist/ecl.js, rebuilt first; run like a binary, without deno.json), and from source
 * (`deno run -A cli.ts`); and, as the baseline, `deno run` of an empty program. The output of
 * `read` and the count written by `log` are checked.
 *
 * Run alone: `deno run -A bench/oneshot.ts [--runs N]`.
 * @module
 */
import { periodStart } from "../lib/interval.ts";
import { bundleCli } from "../scripts/bundle.ts";
import {
  assertExact,
  type BenchContext,
  benchMain,
  childEnv,
  ROOT,
  type Sample,
  type Workload,
} from "./_util.ts";

const EVENTS = ["req1", "req2", "req3", "error"];
const INTERVAL = "1h";
const EMPTY = new URL("./_empty.ts", import.meta.url).pathname;

/** How the CLI is started: the bundle the binaries are built from, or cli.ts from source. */
type Entry = "bundle" | "source";

let bundled: Promise<string> | undefined;

/** `deno run` arguments that start the CLI from `entry`. */
async function cli(entry: Entry): Promise<string[]> {
  if (entry === "source") return ["cli.ts"];
  bundled ??= bundleCli();
  return ["--no-config", await bundled];
}

interface Output {
  readonly seconds: number;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `deno run -A ARGS` from the repository root; times it from spawn to exit. */
async function denoRun(args: string[]): Promise<Output> {
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    cwd: ROOT,
    env: childEnv(),
    stdin: "null",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  const decoder = new TextDecoder();
  return {
    seconds,
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Write a config for the bench's Redis with groups `r` (read) and `l` (log); returns its path. */
async function writeConfig(context: BenchContext): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "ecl-bench-", suffix: ".yml" });
  const events = `[${EVENTS.join(", ")}]`;
  await Deno.writeTextFile(
    path,
    `redis:\n  host: 127.0.0.1\n  port: ${context.redis.port}\ngroups:\n` +
      `  r:\n    events: ${events}\n    intervals: [${INTERVAL}]\n` +
      `  l:\n    events: ${events}\n    intervals: [1m, ${INTERVAL}]\n`,
  );
  return path;
}

function problem(command: string, output: Output): string {
  return `${command} exited with code ${output.code}: ${output.stderr.trim()}`;
}

/** `ecl read`: 4 counts in `last`, with the span keys a master writes. */
async function read(context: BenchContext, entry: Entry) {
  const config = await writeConfig(context);
  try {
    const now = Date.now() / 1000;
    const current = periodStart(now, 3600);
    await context.raw.mSet([
      [`r:${INTERVAL}:cur:@ts`, String(current)],
      [`r:${INTERVAL}:last:@ts`, String(current - 3600)],
      ...EVENTS.map((event, i): [string, string] => [`r:${INTERVAL}:last:${event}`, String(i + 1)]),
    ]);
    const output = await denoRun([...await cli(entry), "read", config, "-g", "r", "-i", INTERVAL]);
    const expected = EVENTS.map((event, i) => `${event}:${i + 1}`).sort().join("\n") + "\n";
    const errors = output.code !== 0
      ? [problem("ecl read", output)]
      : output.stdout !== expected
      ? [`ecl read printed ${JSON.stringify(output.stdout)}, expected ${JSON.stringify(expected)}`]
      : [];
    const notes = output.stderr.trim() === "" ? [] : [`ecl read: ${output.stderr.trim()}`];
    return { value: output.seconds, errors, notes };
  } finally {
    await Deno.remove(config);
  }
}

/** `ecl log CONFIG l req2 3`: the count must be in `cur` of both intervals. */
async function log(context: BenchContext, entry: Entry) {
  const config = await writeConfig(context);
  try {
    const output = await denoRun([...await cli(entry), "log", config, "l", "req2", "3"]);
    const errors = output.code !== 0 ? [problem("ecl log", output)] : [];
    const values = await context.raw.mGet([`l:1m:cur:req2`, `l:${INTERVAL}:cur:req2`]);
    if (values.some((value) => value !== "3")) {
      errors.push(`after ecl log, l:*:cur:req2 = ${values.join(", ")}, expected 3`);
    }
    const notes = output.stderr.trim() === "" ? [] : [`ecl log: ${output.stderr.trim()}`];
    return { value: output.seconds, errors, notes };
  } finally {
    await Deno.remove(config);
  }
}

async function bare() {
  const output = await denoRun([EMPTY]);
  return { value: output.seconds, errors: output.code === 0 ? [] : [problem("deno run", output)] };
}

/** A one-shot workload: `command` started from `entry`, with the target when it is given. */
function oneShot(
  name: string,
  title: string,
  command: (context: BenchContext, entry: Entry) => Promise<Sample>,
  entry: Entry,
  target?: Workload["target"],
  reference = "—",
): Workload {
  return {
    name,
    title,
    unit: "s",
    target,
    reference,
    warmUp: async (context) => assertExact(await command(context, entry)),
    run: (context) => command(context, entry),
  };
}

const TARGET = { value: 0.15, better: "lower" } as const;

/** The workloads. */
export const workloads: Workload[] = [
  oneShot(
    "cli-read",
    "6 ecl read, 4 events: the bundle the binaries run (deno run dist/ecl.js read)",
    read,
    "bundle",
    TARGET,
    "Python ecl_reader 0.28 s",
  ),
  oneShot(
    "cli-log",
    "6 ecl log: the bundle the binaries run (deno run dist/ecl.js log)",
    log,
    "bundle",
    TARGET,
  ),
  oneShot("cli-read-source", "6 ecl read from source (deno run -A cli.ts read)", read, "source"),
  oneShot("cli-log-source", "6 ecl log from source (deno run -A cli.ts log)", log, "source"),
  {
    name: "cli-bare",
    title: "6 baseline: deno run -A of an empty program",
    unit: "s",
    reference: "bare deno run 0.05 s",
    warmUp: async () => assertExact(await bare()),
    run: bare,
  },
];

if (import.meta.main) await benchMain(workloads);

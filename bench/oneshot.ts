/**
 * Workload 6: one-shot CLI commands — `ecl read` (4 events), `ecl log`, `ecl status`,
 * `ecl --version`, `ecl --help` — from a warm cache, each as a ratio to `deno run` of an empty
 * program (started the same way: with or without deno.json) measured right after it (alternating,
 * so both see the same load; the median of the ratios is reported), at least 7 runs. Each run
 * gives three rows: the ratio of CPU time (user + system, all threads: `perf stat`'s task-clock;
 * the main row), the ratio of wall time (`/wall`; the issue's targets are in wall time), and the
 * peak memory of both (`/peak`, `/usr/bin/time`'s maximum resident set size). Both ratios are
 * noisy on a shared machine, and the CPU ratio is not the steadier one: over 15 runs on this
 * project's 2-core VM the interquartile range of the wall ratios was 5–24 % of their median, that
 * of the CPU ratios 4–26 % (V8's background threads, counted in CPU time, do a varying share of
 * the work). The wall ratio is the lower one: Deno starts on several threads at once. Without
 * `perf`, the main row is the wall ratio too.
 * Started from the CLI bundle the binaries are built from (`deno task bundle`, dist/ecl.js,
 * rebuilt first; run like a binary, without deno.json) and from source (`deno run -A cli.ts`).
 * The output of `read` and `status` and the count written by `log` are checked.
 *
 * Run alone: `deno run -A bench/oneshot.ts [--runs N]`.
 * @module
 */
import { periodStart } from "../lib/interval.ts";
import { MASTER_LEASE_KEY } from "../lib/keys.ts";
import { bundleCli } from "../scripts/bundle.ts";
import {
  assertExact,
  type BenchContext,
  benchMain,
  childEnv,
  ROOT,
  type Sample,
  type SubRow,
  type Target,
  type Workload,
} from "./_util.ts";

const EVENTS = ["req1", "req2", "req3", "error"];
const INTERVAL = "1h";
const EMPTY = new URL("./_empty.ts", import.meta.url).pathname;
/** GNU time: the child's maximum resident set size (`%M`, KiB). */
const TIME = "/usr/bin/time";
/** `perf stat -e task-clock`: the CPU time of the child and its threads, in ms (not ticks). */
const PERF = "/usr/bin/perf";

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const hasTime = isFile(TIME);
const hasPerf = isFile(PERF);

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
  /** Wall time from spawn to exit. */
  readonly seconds: number;
  /** CPU time (user + system, all threads), when perf is installed. */
  readonly cpuSeconds: number | undefined;
  /** Peak resident memory (MiB), when /usr/bin/time is installed. */
  readonly peakMiB: number | undefined;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `perf stat -x,` output: the task-clock line's first field, in ms. */
function taskClockSeconds(text: string): number | undefined {
  const line = text.split("\n").find((line) => line.includes(",task-clock,"));
  const ms = Number(line?.split(",")[0]);
  return line !== undefined && Number.isFinite(ms) ? ms / 1000 : undefined;
}

/**
 * Run `deno run -A ARGS` from the repository root; times it from spawn to exit, and measures its
 * CPU time (perf) and peak memory (GNU time) when those are installed.
 */
async function denoRun(args: string[]): Promise<Output> {
  let command = [Deno.execPath(), "run", "-A", ...args];
  const peakFile = hasTime ? await Deno.makeTempFile({ prefix: "ecl-bench-peak-" }) : undefined;
  const cpuFile = hasPerf ? await Deno.makeTempFile({ prefix: "ecl-bench-cpu-" }) : undefined;
  if (peakFile !== undefined) command = [TIME, "-f", "%M", "-o", peakFile, ...command];
  if (cpuFile !== undefined) {
    command = [PERF, "stat", "-x,", "-e", "task-clock", "-o", cpuFile, "--", ...command];
  }
  try {
    const started = performance.now();
    const output = await new Deno.Command(command[0], {
      args: command.slice(1),
      cwd: ROOT,
      env: childEnv(),
      stdin: "null",
    }).output();
    const seconds = (performance.now() - started) / 1000;
    const decoder = new TextDecoder();
    const kib = peakFile === undefined
      ? NaN
      : Number((await Deno.readTextFile(peakFile)).trim().split("\n").pop());
    return {
      seconds,
      cpuSeconds: cpuFile === undefined
        ? undefined
        : taskClockSeconds(await Deno.readTextFile(cpuFile)),
      peakMiB: Number.isFinite(kib) ? kib / 1024 : undefined,
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    if (peakFile !== undefined) await Deno.remove(peakFile);
    if (cpuFile !== undefined) await Deno.remove(cpuFile);
  }
}

/** Write a config for the bench's Redis with groups `r` (read) and `l` (log); returns its path. */
async function writeConfig(context: BenchContext, groups: "r" | "rl"): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "ecl-bench-", suffix: ".yml" });
  const events = `[${EVENTS.join(", ")}]`;
  await Deno.writeTextFile(
    path,
    `redis:\n  host: 127.0.0.1\n  port: ${context.redis.port}\ngroups:\n` +
      `  r:\n    events: ${events}\n    intervals: [${INTERVAL}]\n` +
      (groups === "rl" ? `  l:\n    events: ${events}\n    intervals: [1m, ${INTERVAL}]\n` : ""),
  );
  return path;
}

function problem(command: string, output: Output): string {
  return `${command} exited with code ${output.code}: ${output.stderr.trim()}`;
}

/** What one run of a command gives: its output and the problems found in it. */
interface Checked {
  readonly output: Output;
  readonly errors: string[];
}

/** A one-shot command: sets Redis up, runs the CLI, checks what it did. */
type Command = (context: BenchContext, entry: Entry) => Promise<Checked>;

/** `r`'s 1 h interval rotated on time: 4 counts in `last`. */
async function writeRotated(context: BenchContext): Promise<void> {
  const current = periodStart(Date.now() / 1000, 3600);
  await context.raw.mSet([
    [`r:${INTERVAL}:cur:@ts`, String(current)],
    [`r:${INTERVAL}:last:@ts`, String(current - 3600)],
    ...EVENTS.map((event, i): [string, string] => [`r:${INTERVAL}:last:${event}`, String(i + 1)]),
  ]);
}

/** `ecl read`: the 4 counts in `last`. */
const read: Command = async (context, entry) => {
  const config = await writeConfig(context, "rl");
  try {
    await writeRotated(context);
    const output = await denoRun([...await cli(entry), "read", config, "-g", "r", "-i", INTERVAL]);
    const expected = EVENTS.map((event, i) => `${event}:${i + 1}`).sort().join("\n") + "\n";
    const errors = output.code !== 0
      ? [problem("ecl read", output)]
      : output.stdout !== expected
      ? [`ecl read printed ${JSON.stringify(output.stdout)}, expected ${JSON.stringify(expected)}`]
      : [];
    return { output, errors };
  } finally {
    await Deno.remove(config);
  }
};

/** `ecl log CONFIG l req2 3`: the count must be in `cur` of both intervals. */
const log: Command = async (context, entry) => {
  const config = await writeConfig(context, "rl");
  try {
    await context.raw.del([`l:1m:cur:req2`, `l:${INTERVAL}:cur:req2`]);
    const output = await denoRun([...await cli(entry), "log", config, "l", "req2", "3"]);
    const errors = output.code !== 0 ? [problem("ecl log", output)] : [];
    const values = await context.raw.mGet([`l:1m:cur:req2`, `l:${INTERVAL}:cur:req2`]);
    if (values.some((value) => value !== "3")) {
      errors.push(`after ecl log, l:*:cur:req2 = ${values.join(", ")}, expected 3`);
    }
    return { output, errors };
  } finally {
    await Deno.remove(config);
  }
};

/** `ecl status`: OK, with a master holding the lease and `r` rotated on time. */
const status: Command = async (context, entry) => {
  const config = await writeConfig(context, "r");
  try {
    await writeRotated(context);
    await context.raw.pSetEx(MASTER_LEASE_KEY, 60_000, "bench-master");
    const output = await denoRun([...await cli(entry), "status", config]);
    const errors = output.code !== 0 || !output.stdout.startsWith("ECL OK")
      ? [`${problem("ecl status", output)}; printed ${JSON.stringify(output.stdout)}`]
      : [];
    return { output, errors };
  } finally {
    await Deno.remove(config);
  }
};

/** `ecl --version` or `ecl --help`: exit 0 and the expected first word. */
function info(flag: "--version" | "--help", expected: RegExp): Command {
  return async (_context, entry) => {
    const output = await denoRun([...await cli(entry), flag]);
    const errors = output.code !== 0 || !expected.test(output.stdout)
      ? [`${problem(`ecl ${flag}`, output)}; printed ${JSON.stringify(output.stdout)}`]
      : [];
    return { output, errors };
  };
}

/** `deno run` of an empty program, like `entry` is run: the bundle without deno.json. */
async function bare(entry: Entry = "source"): Promise<Checked> {
  const output = await denoRun(entry === "bundle" ? ["--no-config", EMPTY] : [EMPTY]);
  return { output, errors: output.code === 0 ? [] : [problem("deno run", output)] };
}

/** One run of the baseline alone: its wall time, CPU time and peak memory. */
async function bareRun(): Promise<Sample> {
  const { output, errors } = await bare();
  const rows: SubRow[] = [];
  if (output.cpuSeconds !== undefined) {
    rows.push({
      key: "cpu",
      title: "  the same, CPU time (perf)",
      unit: "s",
      value: output.cpuSeconds,
    });
  }
  if (output.peakMiB !== undefined) {
    rows.push({
      key: "peak",
      title: "  the same, peak memory",
      unit: "MiB",
      value: output.peakMiB,
    });
  }
  return { value: output.seconds, errors, rows };
}

function notesOf(output: Output): string[] {
  return output.stderr.trim() === "" ? [] : [output.stderr.trim()];
}

/**
 * One run: the command, then an empty `deno run`; the ratio of their CPU times (else wall times),
 * with the ratio of their wall times and their peak memory as rows of their own.
 */
async function ratio(
  context: BenchContext,
  command: Command,
  entry: Entry,
  targets: Targets,
): Promise<Sample> {
  const measured = await command(context, entry);
  const baseline = await bare(entry);
  const cpu = measured.output.cpuSeconds !== undefined && baseline.output.cpuSeconds !== undefined;
  const wallRatio = measured.output.seconds / baseline.output.seconds;
  const rows: SubRow[] = [];
  if (cpu) {
    rows.push({
      key: "wall",
      title: "  the same, wall time",
      unit: "x",
      value: wallRatio,
      target: lower(targets.ratio),
    });
  }
  if (measured.output.peakMiB !== undefined) {
    rows.push({
      key: "peak",
      title: "  the same, peak memory (baseline: the empty deno run's)",
      unit: "MiB",
      value: measured.output.peakMiB,
      baseline: baseline.output.peakMiB,
      target: lower(targets.peakMiB),
      reference: targets.peakReference,
    });
  }
  return {
    value: cpu ? measured.output.cpuSeconds! / baseline.output.cpuSeconds! : wallRatio,
    errors: [...measured.errors, ...baseline.errors],
    notes: [
      ...notesOf(measured.output),
      ...(cpu ? [] : [`wall time: CPU time needs ${PERF} (Debian package linux-perf)`]),
      ...(hasTime ? [] : [`peak memory needs ${TIME} (Debian package time)`]),
    ],
    rows,
  };
}

function lower(value: number | undefined): Target | undefined {
  return value === undefined ? undefined : { value, better: "lower" };
}

/** Goals of a command's rows (issue 14). */
interface Targets {
  /** Of the CPU and wall ratios. */
  readonly ratio?: number;
  readonly peakMiB?: number;
  readonly reference?: string;
  readonly peakReference?: string;
}

/** Medians of fewer runs than this move by more than the gaps to the targets. */
const MIN_RUNS = 7;

/** The rows of `command` started from `entry`: CPU time ÷ empty `deno run`, wall time, memory. */
function row(
  name: string,
  title: string,
  command: Command,
  entry: Entry,
  targets: Targets = {},
): Workload {
  const run = (context: BenchContext) => ratio(context, command, entry, targets);
  return {
    name,
    title,
    unit: "x",
    target: lower(targets.ratio),
    reference: targets.reference ?? "—",
    minRuns: MIN_RUNS,
    warmUp: async (context) => assertExact(await run(context)),
    run,
  };
}

const VERSION_OUT = /^ecl \d/;
const HELP_OUT = /^Usage: ecl /;
/** Targets (issue 14): ratios to the empty `deno run` of the same run, and peak memory. */
const BUNDLE_RATIO = 1.75;
const SOURCE_RATIO = 2.8;
const INFO_RATIO = 1.3;
const PEAK_MIB = 40;
const PYTHON = "Python ecl_reader 3.5×";

const BUNDLE: Targets = { ratio: BUNDLE_RATIO, peakMiB: PEAK_MIB };

/** The workloads. */
export const workloads: Workload[] = [
  row("cli-read", "6 ecl read (bundle) ÷ empty deno run, CPU time", read, "bundle", {
    ...BUNDLE,
    reference: PYTHON,
    peakReference: "Python 26.8 MiB",
  }),
  row("cli-log", "6 ecl log (bundle) ÷ empty deno run, CPU time", log, "bundle", BUNDLE),
  row("cli-status", "6 ecl status (bundle) ÷ empty deno run, CPU time", status, "bundle", BUNDLE),
  row(
    "cli-version",
    "6 ecl --version (bundle) ÷ empty deno run, CPU time",
    info("--version", VERSION_OUT),
    "bundle",
    { ratio: INFO_RATIO },
  ),
  row(
    "cli-help",
    "6 ecl --help (bundle) ÷ empty deno run, CPU time",
    info("--help", HELP_OUT),
    "bundle",
    { ratio: INFO_RATIO },
  ),
  row("cli-read-source", "6 ecl read (cli.ts) ÷ empty deno run, CPU time", read, "source", {
    ratio: SOURCE_RATIO,
  }),
  row("cli-log-source", "6 ecl log (cli.ts) ÷ empty deno run, CPU time", log, "source", {
    ratio: SOURCE_RATIO,
  }),
  row("cli-status-source", "6 ecl status (cli.ts) ÷ empty deno run, CPU time", status, "source", {
    ratio: SOURCE_RATIO,
  }),
  row(
    "cli-version-source",
    "6 ecl --version (cli.ts) ÷ empty deno run, CPU time",
    info("--version", VERSION_OUT),
    "source",
    { ratio: INFO_RATIO },
  ),
  {
    name: "cli-bare",
    title: "6 baseline: deno run -A of an empty program, wall time",
    unit: "s",
    reference: "bare deno run 0.05 s",
    minRuns: MIN_RUNS,
    warmUp: async () => assertExact(await bareRun()),
    run: bareRun,
  },
];

if (import.meta.main) await benchMain(workloads);

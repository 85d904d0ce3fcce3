/**
 * Shared helpers of the benchmark suite: command-line options, a private redis-server (the one of
 * the tests, on a free port), repeated timed runs, statistics, the result table and its JSON form.
 *
 * A workload measures one number per run and checks the counts it produced. Targets are goals:
 * missing one is printed, never an error. The suite exits non-zero only when counts were wrong
 * (or a workload could not run, so its counts could not be checked).
 * @module
 */
import { setImmediate } from "node:timers";
import { type RawClient, RedisServer } from "../tests/_redis.ts";

export { type RawClient, RedisServer };

/** Repository root (with a trailing slash). */
export const ROOT: string = new URL("..", import.meta.url).pathname;

/** Options of a bench run. */
export interface BenchOptions {
  /** Measured runs per workload (the median is reported). */
  runs: number;
  /** Sizes shrunk 10x, for quick checks. */
  quick: boolean;
  /** Print the results as JSON instead of the table. */
  json: boolean;
  /** Only the workloads whose name contains one of these. */
  only: string[] | undefined;
  /** Size of the big group of the layout rows (`--events N`); each row has its default. */
  events?: number;
}

/** Default number of measured runs. */
export const DEFAULT_RUNS = 5;

const USAGE =
  `Usage: deno task bench [--runs N] [--quick] [--json] [--only NAME[,NAME...]] [--events N]
  --runs N    measured runs per workload, the median is reported (default ${DEFAULT_RUNS})
  --quick     shrink the sizes 10x
  --json      print the results as one JSON document on stdout instead of the table
  --only      run only the workloads whose name contains one of the given words
  --events N  distinct events of the big group of the layouts rows (bench/layouts.ts; default
              200000, the issue's figure is 1000000)`;

/** Parse the command line; exits with code 2 on a bad option. */
export function parseOptions(args: readonly string[]): BenchOptions {
  const options: BenchOptions = { runs: DEFAULT_RUNS, quick: false, json: false, only: undefined };
  const fail = (message: string): never => {
    console.error(`ERROR: ${message}\n${USAGE}`);
    Deno.exit(2);
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    const value = () => inline ?? args[++i] ?? fail(`${flag} needs a value`);
    switch (flag) {
      case "--runs": {
        const text = value();
        const runs = Number(text);
        if (!Number.isInteger(runs) || runs < 1) fail(`--runs: expected a whole number ≥ 1`);
        options.runs = runs;
        break;
      }
      case "--quick":
        options.quick = true;
        break;
      case "--events": {
        const events = Number(value());
        if (!Number.isInteger(events) || events < 1000) {
          fail(`--events: expected a whole number ≥ 1000`);
        }
        options.events = events;
        break;
      }
      case "--json":
        options.json = true;
        break;
      case "--only":
        options.only = value().split(",").map((word) => word.trim()).filter((word) => word !== "");
        break;
      case "-h":
      case "--help":
        console.log(USAGE);
        Deno.exit(0);
        break;
      default:
        fail(`unknown option ${JSON.stringify(args[i])}`);
    }
  }
  return options;
}

/** What a workload gets for every run. */
export interface BenchContext {
  /** The options of this bench run. */
  readonly options: BenchOptions;
  /** The private redis-server (emptied before every run). */
  readonly redis: RedisServer;
  /** A raw client of it, for filling and checking. */
  readonly raw: RawClient;
  /** `n`, or `n / 10` with `--quick`. */
  size(n: number): number;
}

/** How a measured value reads and which way is better. */
export type Unit = "rate" | "ms" | "s" | "bytes" | "MiB" | "%" | "x";

/** A goal for the median. */
export interface Target {
  /** The goal, in the workload's unit (events/s, ms, s, bytes, MiB, percent, ratio). */
  readonly value: number;
  /** Whether more (rates) or less (times) is better. */
  readonly better: "higher" | "lower";
}

/** Outcome of one run. */
export interface Sample {
  /** The measured value, in the workload's unit. */
  readonly value: number;
  /** What was wrong with the counts (empty: exact). */
  readonly errors: readonly string[];
  /** Warnings and remarks worth printing, which are not count errors. */
  readonly notes?: readonly string[];
  /** The same measure of the baseline (e.g. the other layout), taken in the same run. */
  readonly baseline?: number;
  /**
   * More measures of the same run, each its own row of the table (named `<workload>/<key>`), for
   * workloads whose one expensive run answers several questions.
   */
  readonly rows?: readonly SubRow[];
}

/** One more row of a workload's run (see {@link Sample.rows}). */
export interface SubRow {
  /** Short name, unique within the workload. */
  readonly key: string;
  /** Description for the table. */
  readonly title: string;
  /** Unit of `value` and `baseline`. */
  readonly unit: Unit;
  /** The measured value. */
  readonly value: number;
  /** The baseline's value in the same run, if any. */
  readonly baseline?: number;
  /** Goal of the median, if any. */
  readonly target?: Target;
  /** What it compares to. @default "—" */
  readonly reference?: string;
}

/** One row of the table. */
export interface Workload {
  /** Short name (for `--only` and JSON). */
  readonly name: string;
  /** Description for the table. */
  readonly title: string;
  /** Unit of the measured value. */
  readonly unit: Unit;
  /** Goal of the median, if any. */
  readonly target?: Target;
  /** What it compares to. */
  readonly reference: string;
  /** Fewest measured runs, whatever `--runs` says (for noisy measures). */
  readonly minRuns?: number;
  /** Runs nothing measured before the first run (warm caches, load scripts). */
  readonly warmUp?: (context: BenchContext) => Promise<void>;
  /** One measured run; checks its counts. Redis is empty when it starts. */
  readonly run: (context: BenchContext) => Promise<Sample>;
}

/** Status of a row. */
export type Status = "pass" | "miss" | "—" | "WRONG" | "ERROR";

/** Result of a workload. */
export interface Result {
  readonly name: string;
  readonly title: string;
  readonly unit: Unit;
  /** Every measured value, in run order. */
  readonly values: number[];
  readonly median: number | undefined;
  readonly min: number | undefined;
  readonly max: number | undefined;
  /** Median of the same-run baseline's values, if the workload measures one. */
  readonly baseline: number | undefined;
  readonly target: Target | undefined;
  readonly status: Status;
  readonly reference: string;
  /** Count errors, or the error that stopped the workload. */
  readonly errors: string[];
  /** Warnings and remarks of the runs (each once). */
  readonly notes: string[];
}

/** For warm-up runs: throw when a run found wrong counts (the bench then fails). */
export function assertExact(sample: Sample): void {
  if (sample.errors.length > 0) {
    throw new Error(`counts wrong in the warm-up run: ${sample.errors.join("; ")}`);
  }
}

/** Median of `values` (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Wait for one turn of the event loop (after pending I/O callbacks and `setImmediate`s). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Wait `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The lines of a byte stream, as they arrive (without their `\n`). */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
    }
  }
  if (buffer !== "") yield buffer;
}

/** Environment of child processes: no colours or backtraces in their output. */
export function childEnv(): Record<string, string> {
  return { NO_COLOR: "1", RUST_BACKTRACE: "0" };
}

/** Values of `keys` (`null` when missing), in chunks of 10,000 `MGET` keys. */
export async function getValues(
  raw: RawClient,
  keys: readonly string[],
): Promise<(string | null)[]> {
  const values: (string | null)[] = [];
  for (let start = 0; start < keys.length; start += 10_000) {
    values.push(...await raw.mGet(keys.slice(start, start + 10_000)));
  }
  return values;
}

/**
 * Check that every key holds its expected count; returns one message per wrong key (at most 5,
 * then their number).
 */
export async function checkCounts(
  raw: RawClient,
  expected: ReadonlyMap<string, number>,
): Promise<string[]> {
  const keys = [...expected.keys()];
  const values = await getValues(raw, keys);
  const errors: string[] = [];
  let wrong = 0;
  keys.forEach((key, index) => {
    const want = String(expected.get(key));
    if (values[index] === want) return;
    wrong++;
    if (errors.length < 5) errors.push(`${key} = ${values[index]}, expected ${want}`);
  });
  if (wrong > errors.length) errors.push(`… ${wrong} keys wrong in all`);
  return errors;
}

/**
 * Expected totals of direct and cached mode without a master: every count is in `cur` of every
 * interval (no `cur:@ts`, so the flush script takes every period as the current one).
 */
export function curTotals(
  group: string,
  intervals: readonly string[],
  totals: ReadonlyMap<string, number>,
): Map<string, number> {
  const expected = new Map<string, number>();
  for (const interval of intervals) {
    for (const [event, count] of totals) expected.set(`${group}:${interval}:cur:${event}`, count);
  }
  return expected;
}

// ---------------------------------------------------------------------------------------------
// Formatting

function rateText(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(value >= 1e8 ? 0 : 2)} M/s`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(value >= 1e5 ? 0 : 1)} k/s`;
  return `${value.toFixed(0)} /s`;
}

/** A value in its unit, for people. */
export function formatValue(value: number | undefined, unit: Unit): string {
  if (value === undefined || !Number.isFinite(value)) return "—";
  switch (unit) {
    case "rate":
      return rateText(value);
    case "ms":
      return `${value.toFixed(value >= 100 ? 0 : 1)} ms`;
    case "s":
      return `${value.toFixed(3)} s`;
    case "bytes":
      return `${value.toFixed(0)} B`;
    case "MiB":
      return `${value.toFixed(1)} MiB`;
    case "x":
      // A ratio to a baseline measured in the same run.
      return `${value.toFixed(2)}×`;
    case "%":
      return `${value.toFixed(value >= 10 ? 1 : 2)} %`;
  }
}

function rangeText(result: Result): string {
  if (result.min === undefined || result.max === undefined) return "—";
  const min = formatValue(result.min, result.unit);
  const max = formatValue(result.max, result.unit);
  // "1.10 M/s" – "1.30 M/s" reads as "1.10–1.30 M/s" when both share the unit text.
  const unitOf = (text: string) => text.replace(/^[\d.]+ ?/, "");
  return unitOf(min) === unitOf(max)
    ? `${min.slice(0, min.length - unitOf(min).length).trim()}–${max}`
    : `${min}–${max}`;
}

function targetText(target: Target | undefined, unit: Unit): string {
  if (target === undefined) return "—";
  // Round goals read better without trailing zeros: "≥ 30 M/s", "≤ 0.15 s".
  const value = formatValue(target.value, unit).replace(/(\.\d*?)0+(?= )/, "$1").replace(
    /\.(?= )/,
    "",
  );
  return `${target.better === "higher" ? "≥" : "≤"} ${value}`;
}

/** The status of a row: count errors first, then the target. */
function statusOf(
  medianValue: number | undefined,
  target: Target | undefined,
  errors: boolean,
): Status {
  if (errors) return "WRONG";
  if (medianValue === undefined || target === undefined) return "—";
  const met = target.better === "higher"
    ? medianValue >= target.value
    : medianValue <= target.value;
  return met ? "pass" : "miss";
}

/** The table of results, as text. */
export function formatTable(results: readonly Result[]): string {
  const header = [
    "workload",
    "median",
    "min–max",
    "baseline (same run)",
    "target",
    "pass/miss",
    "reference",
  ];
  const rows = results.map((result) => [
    result.title,
    formatValue(result.median, result.unit),
    rangeText(result),
    formatValue(result.baseline, result.unit),
    targetText(result.target, result.unit),
    result.status,
    result.reference,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length))
  );
  const line = (cells: string[]) =>
    "| " + cells.map((cell, column) => cell.padEnd(widths[column])).join(" | ") + " |";
  return [
    line(header),
    "|" + widths.map((width) => "-".repeat(width + 2)).join("|") + "|",
    ...rows.map(line),
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Running

function progress(message: string): void {
  console.error(message);
}

/** Values of one row across the runs. */
interface Collected {
  readonly values: number[];
  readonly baselines: number[];
}

function collect(rows: Map<string, Collected>, key: string, value: number, baseline?: number) {
  const row = rows.get(key) ?? { values: [], baselines: [] };
  row.values.push(value);
  if (baseline !== undefined) row.baselines.push(baseline);
  rows.set(key, row);
}

/**
 * Run `workload` `runs` times (after its warm-up), emptying Redis before every run: its row, then
 * one row per {@link SubRow} key its runs returned.
 */
export async function runWorkload(workload: Workload, context: BenchContext): Promise<Result[]> {
  const collected = new Map<string, Collected>();
  const subRows = new Map<string, SubRow>();
  const errors: string[] = [];
  const notes = new Set<string>();
  let failed = false;
  try {
    if (workload.warmUp !== undefined) {
      await context.raw.flushAll();
      await workload.warmUp(context);
    }
    const runs = Math.max(context.options.runs, workload.minRuns ?? 1);
    for (let run = 1; run <= runs; run++) {
      await context.raw.flushAll();
      const sample = await workload.run(context);
      collect(collected, "", sample.value, sample.baseline);
      for (const row of sample.rows ?? []) {
        subRows.set(row.key, row);
        collect(collected, row.key, row.value, row.baseline);
      }
      for (const error of sample.errors) errors.push(`run ${run}: ${error}`);
      for (const note of sample.notes ?? []) notes.add(note);
      progress(
        `  ${workload.name} run ${run}/${runs}: ${formatValue(sample.value, workload.unit)}${
          sample.baseline === undefined
            ? ""
            : ` (baseline ${formatValue(sample.baseline, workload.unit)})`
        }${sample.errors.length > 0 ? " — COUNTS WRONG" : ""}`,
      );
    }
  } catch (error) {
    failed = true;
    errors.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
  const result = (
    name: string,
    row: Pick<Workload, "title" | "unit" | "target" | "reference">,
    values: readonly number[],
    baselines: readonly number[],
    main: boolean,
  ): Result => {
    const medianValue = values.length > 0 ? median(values) : undefined;
    return {
      name,
      title: row.title,
      unit: row.unit,
      values: [...values],
      median: medianValue,
      min: values.length > 0 ? Math.min(...values) : undefined,
      max: values.length > 0 ? Math.max(...values) : undefined,
      baseline: baselines.length > 0 ? median(baselines) : undefined,
      target: row.target,
      status: failed ? "ERROR" : statusOf(medianValue, row.target, main && errors.length > 0),
      reference: row.reference,
      errors: main ? errors : [],
      notes: main ? [...notes] : [],
    };
  };
  const main = collected.get("") ?? { values: [], baselines: [] };
  return [
    result(workload.name, workload, main.values, main.baselines, true),
    ...[...subRows.values()].map((row) =>
      result(
        `${workload.name}/${row.key}`,
        { ...row, reference: row.reference ?? "—" },
        collected.get(row.key)!.values,
        collected.get(row.key)!.baselines,
        false,
      )
    ),
  ];
}

/**
 * Run the workloads selected by the command line against one private redis-server, print the
 * table (or JSON), and exit with code 1 when counts were wrong or a workload failed.
 */
export async function benchMain(
  workloads: readonly Workload[],
  args: readonly string[] = Deno.args,
): Promise<void> {
  const options = parseOptions(args);
  const selected = options.only === undefined
    ? workloads
    : workloads.filter((w) => options.only!.some((word) => w.name.includes(word)));
  if (selected.length === 0) {
    console.error(`ERROR: no workload matches --only ${options.only!.join(",")}`);
    Deno.exit(2);
  }
  const started = performance.now();
  const redis = await RedisServer.start();
  const results: Result[] = [];
  try {
    const raw = await redis.client();
    const context: BenchContext = {
      options,
      redis,
      raw,
      size: (n) => options.quick ? Math.max(1, Math.round(n / 10)) : n,
    };
    progress(
      `ecl bench: ${options.runs} run(s) per workload${
        options.quick ? ", quick (sizes / 10)" : ""
      }; redis-server on port ${redis.port}`,
    );
    for (const workload of selected) {
      progress(`${workload.name}: ${workload.title}`);
      results.push(...await runWorkload(workload, context));
    }
  } finally {
    await redis.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const bad = results.filter((result) => result.status === "WRONG" || result.status === "ERROR");
  if (options.json) {
    console.log(JSON.stringify(
      {
        deno: Deno.version.deno,
        v8: Deno.version.v8,
        target: Deno.build.target,
        cpus: navigator.hardwareConcurrency,
        runs: options.runs,
        quick: options.quick,
        seconds,
        ok: bad.length === 0,
        results,
      },
      null,
      2,
    ));
  } else {
    console.log(formatTable(results));
    console.log(
      `\n${options.runs} run(s) per workload${options.quick ? " (quick: sizes / 10)" : ""}, ${
        seconds.toFixed(0)
      } s in all; deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs. ` +
        `Targets are goals: a miss does not fail the bench.`,
    );
  }
  for (const result of results) {
    if (result.notes.length === 0) continue;
    console.error(`\nNotes of ${result.name}:`);
    for (const note of result.notes) console.error(`  ${note}`);
  }
  for (const result of bad) {
    console.error(`\n${result.status}: ${result.name}`);
    for (const error of result.errors) console.error(`  ${error}`);
  }
  if (bad.length > 0) Deno.exit(1);
}

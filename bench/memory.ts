/**
 * Workload 7: heap per pending counter during an outage. A child process whose Redis is
 * unreachable (a closed port) logs 1 event, then 100,000 distinct auto-declared events; the
 * heap it uses for them (`Deno.memoryUsage().heapUsed` after `gc()`, before and after) divided by
 * the number of pending (interval, period, event) counters. No target: the number is printed.
 * The pending counters must be exactly 2 × 100,001 and nothing dropped.
 *
 * Run alone: `deno run -A bench/memory.ts [--runs N] [--quick]`.
 * @module
 */
import { freePort } from "../tests/_redis.ts";
import { type BenchContext, benchMain, childEnv, ROOT, type Workload } from "./_util.ts";

const EVENTS = 100_000;
const INTERVALS = 2;
const CHILD = new URL("./_memory_child.ts", import.meta.url).pathname;

interface Report {
  gc: boolean;
  before: number;
  after: number;
  pendingBefore: number;
  pendingAfter: number;
  accepted: number;
  dropped: number;
}

function measure(mode: "open" | "sealed" | "inflight") {
  return async (context: BenchContext) => {
    const events = context.size(EVENTS);
    // Nothing listens there: the port was free a moment ago.
    const port = await freePort();
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        "--v8-flags=--expose-gc",
        CHILD,
        mode,
        String(events),
        String(port),
      ],
      cwd: ROOT,
      env: childEnv(),
      stdin: "null",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout).trim();
    const stderr = new TextDecoder().decode(output.stderr).trim();
    if (!output.success) throw new Error(`memory child exited with code ${output.code}: ${stderr}`);
    const report = JSON.parse(stdout) as Report;
    const errors: string[] = [];
    const expected = INTERVALS * (events + 1);
    if (report.pendingAfter !== expected || report.accepted !== events || report.dropped !== 0) {
      errors.push(
        `pending ${report.pendingAfter} counters (expected ${expected}), accepted ${report.accepted} of ${events}, dropped ${report.dropped}`,
      );
    }
    const notes = report.gc ? [] : ["gc() not available: numbers include garbage"];
    const keys = report.pendingAfter - report.pendingBefore;
    return { value: (report.after - report.before) / keys, errors, notes };
  };
}

/** The workloads. */
export const workloads: Workload[] = [
  {
    name: "memory",
    title: "7 pending memory in an outage: heap per (interval, period, event) key",
    unit: "bytes",
    reference: "README ≈150 B",
    run: measure("open"),
  },
  {
    name: "memory-sealed",
    title: "7b same, after a boundary sealed them into per-interval batches",
    unit: "bytes",
    reference: "—",
    run: measure("sealed"),
  },
  {
    name: "memory-inflight",
    title: "7c same, logged in one turn: all in the flush waiting in the offline queue",
    unit: "bytes",
    reference: "—",
    run: measure("inflight"),
  },
];

if (import.meta.main) await benchMain(workloads);

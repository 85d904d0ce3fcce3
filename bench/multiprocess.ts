/**
 * Workload 4: 4 processes, each running workload 2 (1 M direct-mode `log()` over 4 events and
 * 2 intervals, a turn of the event loop every 100 calls, until flushed) against one Redis. The
 * wall time runs from the "go" sent to every ready process to the last "done"; the aggregate
 * totals in Redis are checked.
 *
 * Run alone: `deno run -A bench/multiprocess.ts [--runs N] [--quick]`.
 * @module
 */
import {
  type BenchContext,
  benchMain,
  checkCounts,
  childEnv,
  curTotals,
  lines,
  ROOT,
  type Workload,
} from "./_util.ts";
import { CALLS, EVENTS, expectedCount, INTERVALS } from "./direct.ts";

const PROCESSES = 4;
const GROUP = "multi";
const WORKER = new URL("./_worker.ts", import.meta.url).pathname;

interface Worker {
  readonly process: Deno.ChildProcess;
  readonly stdout: AsyncGenerator<string>;
  readonly stderr: Promise<string>;
}

function spawnWorker(port: number, calls: number): Worker {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", WORKER, String(port), GROUP, String(calls)],
    cwd: ROOT,
    env: childEnv(),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return {
    process,
    stdout: lines(process.stdout),
    stderr: new Response(process.stderr).text(),
  };
}

async function expectLine(worker: Worker, prefix: string): Promise<string> {
  const { value, done } = await worker.stdout.next();
  if (done || !value.startsWith(prefix)) {
    const status = await worker.process.status;
    throw new Error(
      `worker ${worker.process.pid}: expected "${prefix}", got ${
        JSON.stringify(value)
      } (exit ${status.code}): ${(await worker.stderr).trim()}`,
    );
  }
  return value;
}

async function run(context: BenchContext) {
  const calls = context.size(CALLS);
  const workers = Array.from({ length: PROCESSES }, () => spawnWorker(context.redis.port, calls));
  const errors: string[] = [];
  const notes: string[] = [];
  let seconds: number;
  try {
    await Promise.all(workers.map((worker) => expectLine(worker, "ready")));
    const go = new TextEncoder().encode("go\n");
    const started = performance.now();
    for (const worker of workers) {
      const writer = worker.process.stdin.getWriter();
      // A worker that died shows up below, as a missing "done" line.
      writer.write(go).catch(() => {});
      writer.close().catch(() => {});
    }
    const done = await Promise.all(workers.map((worker) => expectLine(worker, "done")));
    seconds = (performance.now() - started) / 1000;
    for (const line of done) {
      const accepted = Number(line.split(" ")[2]);
      if (accepted !== calls) {
        errors.push(`a worker's log() accepted ${accepted} of ${calls} calls`);
      }
    }
  } finally {
    for (const worker of workers) {
      const status = await worker.process.status;
      for await (const _ of worker.stdout) { /* drain */ }
      const stderr = (await worker.stderr).trim();
      if (!status.success) errors.push(`worker exited with code ${status.code}: ${stderr}`);
      else if (stderr !== "") notes.push(`worker: ${stderr}`);
    }
  }
  const totals = new Map(
    EVENTS.map((event, index) => [event, PROCESSES * expectedCount(calls, index)]),
  );
  errors.push(...await checkCounts(context.raw, curTotals(GROUP, INTERVALS, totals)));
  return { value: PROCESSES * calls / seconds, errors, notes };
}

/** The workload. */
export const workloads: Workload[] = [{
  name: "multiprocess",
  title: "4 four processes × workload 2, aggregate (wall time go → all flushed)",
  unit: "rate",
  target: { value: 1.5e6, better: "higher" },
  reference: "—",
  run,
}];

if (import.meta.main) await benchMain(workloads);

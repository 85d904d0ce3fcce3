/**
 * Workload 10: CPU of an idle `ecl master` (`deno run -A cli.ts master CONFIG`) with 10 groups
 * × 3 intervals (5s, 5m, 1h) and no events, as percent of one core: user + system time of the
 * process (`/proc/PID/stat`) over a 20 s window (5 s with `--quick`) that starts once the master
 * holds the lease, has set every `cur:@ts` and has had 2 s to settle. Its resident memory at the
 * end (`VmRSS`, peak `VmHWM` of `/proc/PID/status`) is printed as a note. Checked: every group's
 * `cur:@ts` is the current period or the one before (so the master did rotate while measured),
 * and the master exits 0 on SIGTERM. Linux only (`/proc`).
 *
 * Run alone: `deno run -A bench/idle.ts [--runs N] [--quick]`.
 * @module
 */
import { periodStart } from "../lib/interval.ts";
import { CUR, MASTER_LEASE_KEY, timestampKey } from "../lib/keys.ts";
import {
  type BenchContext,
  benchMain,
  childEnv,
  ROOT,
  type Sample,
  sleep,
  type Workload,
} from "./_util.ts";

const TICK = new URL("./_tick.ts", import.meta.url).pathname;
const GROUPS = Array.from({ length: 10 }, (_, i) => `g${i}`);
/** The intervals of every group, with their lengths in seconds. */
const INTERVALS: ReadonlyMap<string, number> = new Map([["5s", 5], ["5m", 300], ["1h", 3600]]);
const WINDOW_MS = 20_000;
const QUICK_WINDOW_MS = 5_000;
/** Time for start-up JIT and GC to settle once the master is up. */
const SETTLE_MS = 2_000;
const START_TIMEOUT_MS = 30_000;
const POLL_MS = 50;

/** Clock ticks per second of `/proc/PID/stat` (`getconf CLK_TCK`, asked once). */
let clockTicks: number | undefined;

async function ticksPerSecond(): Promise<number> {
  if (clockTicks !== undefined) return clockTicks;
  const output = await new Deno.Command("getconf", { args: ["CLK_TCK"], stderr: "null" }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  const ticks = Number(text);
  if (!output.success || !Number.isInteger(ticks) || ticks <= 0) {
    throw new Error(`Cannot read the clock tick rate: getconf CLK_TCK printed "${text}"`);
  }
  return clockTicks = ticks;
}

/** User + system CPU seconds of process `pid` (all its threads). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Field 2 is the command name in parentheses, which may hold spaces: count from after it.
  // Field 3 (state) is then index 0, so utime (field 14) and stime (field 15) are 11 and 12.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / await ticksPerSecond();
}

/** Voluntary context switches of process `pid`, summed over its threads: its wake-ups. */
async function wakeUps(pid: number): Promise<number> {
  let total = 0;
  for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
    const status = await Deno.readTextFile(`/proc/${pid}/task/${task.name}/status`).catch(() => "");
    total += Number(status.match(/^voluntary_ctxt_switches:\s+(\d+)$/m)?.[1] ?? 0);
  }
  return total;
}

/** CPU (percent of one core) and wake-ups per second of process `pid` over the next `ms`. */
async function measure(pid: number, ms: number): Promise<{ percent: number; wakeUps: number }> {
  const wallStart = performance.now();
  const cpuStart = await cpuSeconds(pid);
  const wakeStart = await wakeUps(pid);
  await sleep(ms);
  const cpuEnd = await cpuSeconds(pid);
  const wakeEnd = await wakeUps(pid);
  const seconds = (performance.now() - wallStart) / 1000;
  return { percent: (cpuEnd - cpuStart) / seconds * 100, wakeUps: (wakeEnd - wakeStart) / seconds };
}

/** `VmRSS` and `VmHWM` of process `pid`, in bytes. */
async function residentBytes(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const field = (name: string) => {
    const match = status.match(new RegExp(`^${name}:\\s+(\\d+) kB$`, "m"));
    if (match === null) throw new Error(`Cannot find ${name} in /proc/${pid}/status`);
    return Number(match[1]) * 1024;
  };
  return { rss: field("VmRSS"), peak: field("VmHWM") };
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/** A config for the bench's Redis with the groups `g0`…`g9`; returns its path. */
async function writeConfig(context: BenchContext): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "ecl-bench-", suffix: ".yml" });
  const intervals = `[${[...INTERVALS.keys()].join(", ")}]`;
  await Deno.writeTextFile(
    path,
    `redis:\n  host: 127.0.0.1\n  port: ${context.redis.port}\ngroups:\n` +
      GROUPS.map((group) =>
        `  ${group}:\n    auto_declare_events: true\n    intervals: ${intervals}\n`
      ).join(""),
  );
  return path;
}

/** Every `cur:@ts` key, as (group, interval name, interval seconds, key). */
function timestampKeys(): [string, string, number, string][] {
  return GROUPS.flatMap((group) =>
    [...INTERVALS].map(([name, seconds]): [string, string, number, string] => [
      group,
      name,
      seconds,
      timestampKey(group, name, CUR),
    ])
  );
}

async function run(context: BenchContext): Promise<Sample> {
  if (Deno.build.os !== "linux") {
    throw new Error(`Cannot measure the CPU of a process on "${Deno.build.os}": needs Linux /proc`);
  }
  const windowMs = context.options.quick ? QUICK_WINDOW_MS : WINDOW_MS;
  const keys = timestampKeys();
  const config = await writeConfig(context);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", "master", config],
    cwd: ROOT,
    env: childEnv(),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Read stderr as it comes, so that the pipe never fills.
  const stderr = new Response(child.stderr).text();
  let exited = false;
  const status = child.status.then((status) => {
    exited = true;
    return status;
  });
  try {
    // Deno.Command runs the program itself, no shell in between: the pid is the deno process.
    const exe = await Deno.readLink(`/proc/${child.pid}/exe`);
    if (exe !== await Deno.realPath(Deno.execPath())) {
      throw new Error(`Cannot measure the master: pid ${child.pid} runs "${exe}", not deno`);
    }

    // Up: it holds the lease and its catch-up rotations have set every cur:@ts.
    const deadline = performance.now() + START_TIMEOUT_MS;
    for (;;) {
      if (exited) {
        throw new Error(
          `ecl master exited during start-up with code ${(await status).code}: ${
            (await stderr).trim()
          }`,
        );
      }
      const [lease, ...stamps] = await context.raw.mGet([
        MASTER_LEASE_KEY,
        ...keys.map(([, , , key]) => key),
      ]);
      if (lease !== null && stamps.every((stamp) => stamp !== null)) break;
      if (performance.now() > deadline) {
        throw new Error(
          `Cannot start ecl master: no lease or cur:@ts after ${START_TIMEOUT_MS} ms`,
        );
      }
      await sleep(POLL_MS);
    }
    await sleep(SETTLE_MS);

    const { percent, wakeUps: perSecond } = await measure(child.pid, windowMs);
    const memory = await residentBytes(child.pid);

    const errors: string[] = [];
    const now = Date.now() / 1000;
    const stamps = await context.raw.mGet(keys.map(([, , , key]) => key));
    keys.forEach(([, , seconds, key], index) => {
      const current = periodStart(now, seconds);
      const stamp = Number(stamps[index]);
      if (stamp !== current && stamp !== current - seconds) {
        errors.push(
          `${key} = ${stamps[index]}, expected ${current} (or ${current - seconds}): not rotated`,
        );
      }
    });

    if (exited) {
      errors.push(`ecl master exited by itself with code ${(await status).code}`);
    } else {
      child.kill("SIGTERM");
      const { code } = await status;
      if (code !== 0) errors.push(`ecl master exited with code ${code} on SIGTERM`);
    }
    const output = (await stderr).trim();
    if (errors.length > 0 && output !== "") errors.push(`ecl master printed: ${output}`);
    const notes = [
      `RSS ${mib(memory.rss)} (peak ${mib(memory.peak)}), ${perSecond.toFixed(1)} wake-ups/s`,
    ];
    const warnings = output.split("\n").filter((line) => line.includes("warning:"));
    if (warnings.length > 0) notes.push(`ecl master: ${warnings.join(" / ")}`);
    return { value: percent, errors, notes };
  } finally {
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch {
        // It exited between the check and the kill.
      }
      await status;
    }
    await stderr.catch(() => {});
    await Deno.remove(config);
  }
}

/**
 * The baseline: CPU of a Deno process that only wakes once a second (bench/_tick.ts), the same
 * window. What one wake-up costs differs a lot between machines (on a VM it can cost milliseconds).
 */
async function baseline(context: BenchContext): Promise<Sample> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", TICK],
    env: childEnv(),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await sleep(SETTLE_MS);
    const window = context.options.quick ? QUICK_WINDOW_MS : WINDOW_MS;
    const { percent, wakeUps } = await measure(child.pid, window);
    return { value: percent, errors: [], notes: [`${wakeUps.toFixed(1)} wake-ups/s`] };
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
}

/** The workloads. */
export const workloads: Workload[] = [{
  name: "idle-master",
  title: "10 idle ecl master, 10 groups × 3 intervals (5s, 5m, 1h): CPU of one core",
  unit: "%",
  target: { value: 1, better: "lower" },
  reference: "—",
  run,
}, {
  name: "idle-baseline",
  title: "10 baseline: a Deno process with one 1 s timer, nothing else",
  unit: "%",
  reference: "—",
  run: baseline,
}];

if (import.meta.main) await benchMain(workloads);

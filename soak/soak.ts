/**
 * The chaos soak: loggers in direct and cached mode in several processes, two masters, one Redis
 * (AOF, fsync always) and a fault injector that, at seeded random times, SIGKILLs Redis and
 * masters, freezes Redis (SIGSTOP/SIGCONT), SIGTERMs or SIGKILLs loggers and restarts them, and
 * breaks every logger connection through a proxy. At the end every count a logger reported as
 * logged must be in Redis exactly once, and every boundary rotated once.
 *
 * Each logger process (an "incarnation") logs its own event ID, so what it logged and what Redis
 * holds compare one to one. The counts are checked in an interval that never rotates during the
 * soak (`10000h`); rotations are checked in the `3s` interval of the same groups, by an auditor
 * that reads `last:@ts` (`<start>/<end>` of every rotation) ten times a second.
 * @module
 */
import { LossyProxy } from "../tests/_proxy.ts";
import { RedisServer } from "../tests/_redis.ts";
import { mulberry32 } from "../tests/_random.ts";
import { sleep } from "../tests/_wait.ts";
import { Child, within } from "./_child.ts";

/** Kinds of fault the injector picks from. */
export const FAULT_KINDS = [
  "redis-kill",
  "redis-freeze",
  "master-kill",
  "logger-term",
  "logger-kill",
  "proxy-drop",
] as const;
/** One kind of fault. */
export type FaultKind = typeof FAULT_KINDS[number];

const FAULT_LABELS: Record<FaultKind, string> = {
  "redis-kill": "Redis SIGKILL + restart (AOF always)",
  "redis-freeze": "Redis SIGSTOP … SIGCONT",
  "master-kill": "master SIGKILL + restart",
  "logger-term": "logger SIGTERM + restart",
  "logger-kill": "logger SIGKILL + restart",
  "proxy-drop": "all logger connections dropped",
};

/** Options of {@link runSoak}. */
export interface SoakOptions {
  /** How long faults are injected. */
  durationMs: number;
  /** Seed of the fault schedule. */
  seed: number;
  /** Logger processes in direct mode. @default 2 */
  directLoggers?: number;
  /** Logger processes in cached mode. @default 2 */
  cachedLoggers?: number;
  /** Counts each logger logs per 10 ms. @default 10 */
  batch?: number;
  /** Progress lines (faults as they are injected). @default none */
  log?: (line: string) => void;
}

/** Counts of logger incarnations that exited cleanly (SIGTERM) or were SIGKILLed. */
export interface CountTotals {
  /** Incarnations. */
  loggers: number;
  /** Counts the loggers reported as logged (for SIGKILLed ones: their last progress line). */
  logged: number;
  /** Counts found in Redis. */
  found: number;
  /** Logged but not found (clean exits only). */
  lost: number;
  /** Found more often than logged. */
  doubled: number;
}

/** Rotations of one (group, interval), as the auditor saw them. */
export interface RotationAudit {
  /** `<group>:<interval>`. */
  name: string;
  /** Boundaries rotated (each once). */
  rotated: number;
  /** Boundaries rotated twice. */
  doubled: number;
  /** Boundaries merged into a later rotation while Redis was down or frozen (it cannot rotate). */
  mergedInOutage: number;
  /** Boundaries merged into a later rotation with Redis up: a master missed them. */
  missed: number;
}

/** What a soak found. */
export interface SoakResult {
  seed: number;
  durationMs: number;
  faults: Record<FaultKind, number>;
  /** Per mode: incarnations that exited on SIGTERM (or at the end). */
  clean: Record<"direct" | "cached", CountTotals>;
  /** Incarnations that were SIGKILLed: their counts are excepted. */
  killed: CountTotals;
  rotations: RotationAudit[];
  /** Problems other than counts (a logger that did not finish, warnings of interest). */
  notes: string[];
}

/** Whether a soak found nothing wrong. */
export function soakPassed(result: SoakResult): boolean {
  return Object.values(result.clean).every((t) => t.lost === 0 && t.doubled === 0) &&
    result.killed.doubled === 0 &&
    result.rotations.every((r) => r.doubled === 0 && r.missed === 0) &&
    result.notes.length === 0;
}

const INTERVAL = "3s";
const INTERVAL_SECONDS = 3;
/** Never rotates during a soak: its counts are the sums over the whole run. */
const TOTAL_INTERVAL = "10000h";
const GROUPS = { direct: "soak_direct", cached: "soak_cached" } as const;
/** After an outage Redis clients retry every 2 s at most: merged boundaries are excused until then. */
const OUTAGE_SLACK_MS = 4000;

/** A seeded PRNG (mulberry32): the same seed gives the same fault schedule. */
export const random: (seed: number) => () => number = mulberry32;

interface Incarnation {
  mode: "direct" | "cached";
  event: string;
  child: Child;
  logged: number;
  final: boolean;
  killed: boolean;
  started: Promise<void>;
  /** Warnings the logger printed (its final report). */
  warnings: string[];
  /** How long its close took after SIGTERM (ms). */
  closeMs?: number;
}

function config(port: number): string {
  const intervals = `[${INTERVAL}, ${TOTAL_INTERVAL}]`;
  return `redis:
  host: 127.0.0.1
  port: ${port}
groups:
  ${GROUPS.direct}:
    auto_declare_events: true
    intervals: ${intervals}
  ${GROUPS.cached}:
    auto_declare_events: true
    intervals: ${intervals}
    sync_interval: 0.5
    sync_limit: 2000
`;
}

async function writeTemp(text: string): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "ecl-soak-", suffix: ".yml" });
  await Deno.writeTextFile(path, text);
  return path;
}

/** Run a soak; resolves when every process has stopped and the counts are checked. */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => {});
  const rand = random(options.seed);
  const between = (min: number, max: number) => min + Math.floor(rand() * (max - min));
  const batch = options.batch ?? 10;
  const faults = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<
    FaultKind,
    number
  >;
  const notes: string[] = [];
  const outages: [number, number][] = [];

  const redis = await RedisServer.start(["--appendonly", "yes", "--appendfsync", "always"]);
  const proxy = await LossyProxy.start(redis.port);
  const masterConfig = await writeTemp(config(redis.port));
  const loggerConfig = await writeTemp(config(proxy.port));
  const incarnations: Incarnation[] = [];
  let generation = 0;
  let auditing = true;
  let auditLoop: Promise<void> = Promise.resolve();
  const seen = new Map<string, Set<string>>();
  const masters: Child[] = [];
  try {
    const startMaster = () => new Child("cli.ts", ["master", masterConfig]);
    masters.push(startMaster(), startMaster());
    // Loggers start once the masters have opened the periods (the first master's catch-up).
    const raw = await redis.client();
    const curKeys = Object.values(GROUPS).flatMap((group) => [
      `${group}:${INTERVAL}:cur:@ts`,
      `${group}:${TOTAL_INTERVAL}:cur:@ts`,
    ]);
    await within(
      "rotation by the masters",
      60_000,
      (async () => {
        while ((await raw.mGet(curKeys)).includes(null)) await sleep(50);
      })(),
    );
    const totalsTs = await raw.mGet(curKeys.filter((key) => key.includes(TOTAL_INTERVAL)));

    const lastKeys = Object.values(GROUPS).map((group) => `${group}:${INTERVAL}:last:@ts`);
    for (const key of lastKeys) seen.set(key, new Set());
    auditLoop = (async () => {
      while (auditing) {
        try {
          const values = await raw.mGet(lastKeys);
          values.forEach((value, i) => value !== null && seen.get(lastKeys[i])!.add(value));
        } catch {
          // Redis is down: nothing rotates meanwhile.
        }
        await sleep(100);
      }
    })();

    const startLogger = (mode: "direct" | "cached"): Incarnation => {
      const event = `${mode}-${++generation}`;
      let started!: () => void;
      const incarnation: Incarnation = {
        mode,
        event,
        logged: 0,
        final: false,
        killed: false,
        warnings: [],
        started: new Promise((resolve) => started = resolve),
        child: new Child(
          "soak/_logger.ts",
          [loggerConfig, GROUPS[mode], event, String(batch)],
          (line) => {
            let record: { logged?: number; final?: boolean; warnings?: string[]; closeMs?: number };
            try {
              record = JSON.parse(line);
            } catch {
              return;
            }
            if (typeof record.logged === "number") incarnation.logged = record.logged;
            if (record.final) {
              incarnation.final = true;
              incarnation.warnings = record.warnings ?? [];
              incarnation.closeMs = record.closeMs;
            }
            started();
          },
        ),
      };
      incarnations.push(incarnation);
      return incarnation;
    };
    const slots: Incarnation[] = [];
    for (let i = 0; i < (options.directLoggers ?? 2); i++) slots.push(startLogger("direct"));
    for (let i = 0; i < (options.cachedLoggers ?? 2); i++) slots.push(startLogger("cached"));
    await within("logger start", 60_000, Promise.all(slots.map((slot) => slot.started)));
    const firstBoundary = Math.ceil(Date.now() / 1000 / INTERVAL_SECONDS) * INTERVAL_SECONDS;

    const stopLogger = async (incarnation: Incarnation, signal: Deno.Signal) => {
      incarnation.killed = signal === "SIGKILL";
      incarnation.child.kill(signal);
      // A close that takes long: what Redis and the proxy see of the connections meanwhile.
      const slow = setTimeout(async () => {
        await sleep(500); // the logger's own report first
        const clients = await raw.sendCommand(["CLIENT", "LIST"]).catch(String);
        notes.push(
          `logger ${incarnation.event} still closing after 15 s; ${proxy.connections} connections at the proxy; Redis CLIENT LIST:\n${clients}\nthe logger's stderr:\n${
            incarnation.child.stderr.join("\n")
          }`,
        );
      }, 15_000);
      const code = await within(
        `exit of logger ${incarnation.event}`,
        150_000,
        incarnation.child.exited,
      ).finally(() => clearTimeout(slow));
      if (signal === "SIGTERM" && !incarnation.final) {
        notes.push(
          `logger ${incarnation.event} exited (code ${code}) without its final report, after logging ${incarnation.logged}: ${
            incarnation.child.stderr.join(" | ")
          }`,
        );
      }
      const unwritten = incarnation.warnings.filter((warning) => /not written/.test(warning));
      if (unwritten.length > 0 || (incarnation.closeMs ?? 0) > 30_000) {
        notes.push(
          `logger ${incarnation.event}: close took ${incarnation.closeMs} ms; ${
            incarnation.warnings.slice(-6).join(" | ")
          }`,
        );
      }
    };

    // Faults, one at a time; each round tries every kind once, in a seeded order.
    const end = Date.now() + options.durationMs;
    let round: FaultKind[] = [];
    while (Date.now() < end) {
      await sleep(between(500, 3000));
      if (round.length === 0) {
        round = [...FAULT_KINDS];
        for (let i = round.length - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1));
          [round[i], round[j]] = [round[j], round[i]];
        }
      }
      const kind = round.shift()!;
      faults[kind]++;
      const at = Date.now();
      switch (kind) {
        case "redis-kill": {
          const downMs = between(300, 2000);
          log(`redis-kill: down for ${downMs} ms`);
          await redis.kill();
          await sleep(downMs);
          await redis.restart();
          outages.push([at, Date.now()]);
          break;
        }
        case "redis-freeze": {
          const frozenMs = between(300, 2000);
          log(`redis-freeze: ${frozenMs} ms`);
          redis.pause();
          await sleep(frozenMs);
          redis.resume();
          outages.push([at, Date.now()]);
          break;
        }
        case "master-kill": {
          const which = between(0, masters.length);
          const downMs = between(300, 3000);
          log(`master-kill: master ${which}, restarted after ${downMs} ms`);
          masters[which].kill("SIGKILL");
          await masters[which].exited;
          await sleep(downMs);
          masters[which] = startMaster();
          break;
        }
        case "logger-term":
        case "logger-kill": {
          const which = between(0, slots.length);
          const old = slots[which];
          log(`${kind}: logger ${old.event} (logged ${old.logged} so far)`);
          await stopLogger(old, kind === "logger-kill" ? "SIGKILL" : "SIGTERM");
          slots[which] = startLogger(old.mode);
          // Signals before its handler is installed would kill it as SIGKILL does: wait.
          await within(`start of logger ${slots[which].event}`, 60_000, slots[which].started);
          break;
        }
        case "proxy-drop":
          log(`proxy-drop: ${proxy.dropConnections()} connections`);
          break;
      }
    }

    // The end: every logger writes what it holds and reports; then one more boundary is rotated.
    log("stopping the loggers");
    await Promise.all(slots.map((slot) => stopLogger(slot, "SIGTERM")));
    const lastBoundary = Math.ceil(Date.now() / 1000 / INTERVAL_SECONDS) * INTERVAL_SECONDS;
    await within(
      "the rotation after the soak",
      30_000,
      (async () => {
        const done = () =>
          [...seen.values()].every((values) =>
            [...values].some((value) => Number(value.split("/")[1]) >= lastBoundary)
          );
        while (!done()) await sleep(100);
      })(),
    );
    auditing = false;
    await auditLoop;

    // Counts: each incarnation's event in the interval that never rotated.
    const totalKeys = incarnations.map((inc) =>
      `${GROUPS[inc.mode]}:${TOTAL_INTERVAL}:cur:${inc.event}`
    );
    const found = (await raw.mGet(totalKeys)).map((value) => Number(value ?? 0));
    const totals = () => ({ loggers: 0, logged: 0, found: 0, lost: 0, doubled: 0 });
    const clean = { direct: totals(), cached: totals() };
    const killed = totals();
    incarnations.forEach((inc, i) => {
      const sum = inc.killed ? killed : clean[inc.mode];
      sum.loggers++;
      sum.logged += inc.logged;
      sum.found += found[i];
      if (!inc.killed) {
        sum.lost += Math.max(0, inc.logged - found[i]);
        sum.doubled += Math.max(0, found[i] - inc.logged);
      }
    });
    const totalsAfter = await raw.mGet(curKeys.filter((key) => key.includes(TOTAL_INTERVAL)));
    if (totalsAfter.join() !== totalsTs.join()) {
      notes.push(`the ${TOTAL_INTERVAL} interval was rotated: ${totalsTs} -> ${totalsAfter}`);
    }
    const rotations = [...seen].map(([key, values]) =>
      auditRotations(key.slice(0, key.indexOf(":last:")), values, outages)
    );
    for (const [key, values] of seen) {
      const ends = [...values].map((value) => Number(value.split("/")[1]));
      if (!(Math.min(...ends) <= firstBoundary)) {
        notes.push(`${key}: no rotation seen at the start of the soak (${firstBoundary})`);
      }
    }
    return {
      seed: options.seed,
      durationMs: options.durationMs,
      faults,
      clean,
      killed,
      rotations,
      notes,
    };
  } finally {
    auditing = false;
    await auditLoop;
    redis.resume();
    for (const inc of incarnations) inc.child.kill("SIGKILL");
    for (const master of masters) master.kill("SIGTERM");
    await Promise.all([
      ...incarnations.map((inc) => inc.child.exited),
      ...masters.map((m) => m.exited),
    ]);
    await proxy.close();
    await redis.stop();
    await Deno.remove(masterConfig);
    await Deno.remove(loggerConfig);
  }
}

/**
 * Judge the rotations seen (`<start>/<end>` values of `last:@ts`): every boundary from the first
 * to the last is the end (or the start) of one of them; two different starts for one end mean that
 * boundary was rotated twice; a span of several intervals means boundaries were merged.
 */
export function auditRotations(
  name: string,
  values: Iterable<string>,
  outages: readonly [number, number][],
): RotationAudit {
  const startsByEnd = new Map<number, Set<number>>();
  const boundaries = new Set<number>();
  let doubled = 0;
  for (const value of values) {
    const [start, end] = value.split("/").map(Number);
    boundaries.add(start).add(end);
    const starts = startsByEnd.get(end) ?? new Set();
    starts.add(start);
    startsByEnd.set(end, starts);
  }
  // A second rotation of a boundary records another start for it (or itself: `B/B`).
  for (const [end, starts] of startsByEnd) {
    doubled += starts.size - 1 + (starts.size === 1 && !([...starts][0] < end) ? 1 : 0);
  }
  let mergedInOutage = 0;
  let missed = 0;
  const sorted = [...boundaries].sort((a, b) => a - b);
  for (let b = sorted[0]; b <= sorted.at(-1)!; b += INTERVAL_SECONDS) {
    if (boundaries.has(b)) continue;
    const inOutage = outages.some(([from, to]) =>
      b * 1000 >= from - 1000 && b * 1000 <= to + OUTAGE_SLACK_MS
    );
    if (inOutage) mergedInOutage++;
    else missed++;
  }
  return { name, rotated: boundaries.size, doubled, mergedInOutage, missed };
}

/** The result as a plain-text table. */
export function formatSoak(result: SoakResult): string {
  const lines: string[] = [];
  const pad = (text: string | number, width: number) => String(text).padStart(width);
  lines.push(
    `ecl soak: ${(result.durationMs / 60_000).toFixed(1)} min of faults, seed ${result.seed}`,
    "",
    `${"fault".padEnd(40)}${pad("injected", 9)}`,
  );
  for (const kind of FAULT_KINDS) {
    lines.push(`${FAULT_LABELS[kind].padEnd(40)}${pad(result.faults[kind], 9)}`);
  }
  lines.push(
    "",
    `${"loggers".padEnd(28)}${pad("processes", 10)}${pad("logged", 12)}${pad("found", 12)}${
      pad("lost", 7)
    }${pad("doubled", 9)}`,
  );
  const row = (label: string, t: CountTotals, excepted = false) =>
    lines.push(
      `${label.padEnd(28)}${pad(t.loggers, 10)}${pad(t.logged, 12)}${pad(t.found, 12)}${
        pad(excepted ? "—" : t.lost, 7)
      }${pad(excepted ? "—" : t.doubled, 9)}`,
    );
  row("direct mode", result.clean.direct);
  row("cached mode", result.clean.cached);
  row("SIGKILLed (excepted)*", result.killed, true);
  lines.push(
    "",
    `${"boundaries".padEnd(28)}${pad("rotated", 10)}${pad("twice", 7)}${pad("merged†", 9)}${
      pad("missed", 8)
    }`,
  );
  for (const r of result.rotations) {
    lines.push(
      `${r.name.padEnd(28)}${pad(r.rotated, 10)}${pad(r.doubled, 7)}${pad(r.mergedInOutage, 9)}${
        pad(r.missed, 8)
      }`,
    );
  }
  lines.push(
    "",
    "* logged: the last progress line before the SIGKILL (counts logged after it, or cached",
    "  and not yet written, die with the process).",
    "† merged: boundaries that fell while Redis was down or frozen, rotated with the next one.",
  );
  for (const note of result.notes) lines.push(`NOTE: ${note}`);
  lines.push(soakPassed(result) ? "PASS" : "FAIL");
  return lines.join("\n");
}

/** `ecl master`: the daemon that rotates the counters at every interval boundary. */
import { loadConfig } from "../config.ts";
import { Leadership, masterId } from "../leadership.ts";
import { Master, type RotationReport } from "../master.ts";
import { Store } from "../store.ts";
import { ExitCode } from "./_exit.ts";
import { printInfo, printWarning } from "./_io.ts";

/** Signals that stop the master cleanly. */
const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM"];
/** A timer that keeps the process alive while it waits for a signal. */
const KEEPALIVE_MS = 1 << 30;

/** Options of {@link runMaster}. */
export interface MasterCommandOptions {
  /** Config file. */
  config: string;
  /** Log every rotation. */
  verbose: boolean;
}

/** One log line for a rotation. */
export function formatRotation(report: RotationReport): string {
  const at = new Date(report.boundary * 1000).toISOString().replace(".000Z", "Z");
  const what = `${report.group}:${report.interval} at ${at}`;
  return report.events < 0
    ? `${what}: already rotated (by another master or an earlier run)`
    : `rotated ${what}: ${report.events} events in ${report.durationMs.toFixed(1)} ms`;
}

/** Resolve with the name of the first stop signal received. */
function waitForStopSignal(): Promise<Deno.Signal> {
  return new Promise((resolve) => {
    const keepalive = setInterval(() => {}, KEEPALIVE_MS);
    const listeners: [Deno.Signal, () => void][] = [];
    for (const signal of STOP_SIGNALS) {
      const listener = () => {
        clearInterval(keepalive);
        for (const [s, l] of listeners) Deno.removeSignalListener(s, l);
        resolve(signal);
      };
      try {
        Deno.addSignalListener(signal, listener);
        listeners.push([signal, listener]);
      } catch {
        // Not every platform has every signal (Windows has no SIGTERM).
      }
    }
  });
}

/** Run the master until SIGINT or SIGTERM; returns the exit code. */
export async function runMaster(options: MasterCommandOptions): Promise<number> {
  const config = await loadConfig(options.config);
  const store = new Store(config.redis, {
    offlineQueue: false,
    onWarning: printWarning,
    outageNote: "rotations are retried and catch up once it is back",
    onReconnect: printInfo,
  });
  try {
    await store.ready();
  } catch (error) {
    await store.close();
    throw error;
  }
  const stop = waitForStopSignal();
  const leadership = new Leadership(store, masterId(), {
    onChange: (leader) =>
      printInfo(leader ? "this master now leads (holds the lease)" : "this master is a standby"),
    onError: printWarning,
  });
  const master = new Master(config, store, {
    // A standby's "already rotated" is the normal case: the leader was first.
    onRotation: options.verbose
      ? (report) => (report.events >= 0 || report.leader) && printInfo(formatRotation(report))
      : undefined,
    onError: printWarning,
    leadership,
  });
  let pairs = 0;
  for (const group of config.groups.values()) pairs += group.intervals.length;
  printInfo(
    `master ${leadership.id} started: ${config.groups.size} groups, ${pairs} intervals, Redis at ${store.address}`,
  );
  try {
    await leadership.start();
    if (!leadership.isLeader) printInfo("this master is a standby");
    await master.start();
  } catch (error) {
    // Redis refused the lease or a rotation (e.g. the ACL user lacks a command): exit 3.
    await leadership.stop();
    await store.close();
    throw error;
  }
  const signal = await stop;
  printInfo(`master stopping (${signal})`);
  await master.stop();
  await leadership.stop();
  await store.close();
  return ExitCode.Ok;
}

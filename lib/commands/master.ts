/**
 * `ecl master`: the daemon that rotates the counters at every interval boundary (groups of a
 * layout that rotates; with none, it idles until stopped), and warns at start about counts left
 * in another layout's keys.
 */
import { isoTime } from "../_message.ts";
import { loadConfig } from "../config.ts";
import { Leadership, masterId } from "../leadership.ts";
import { Master, type RotationReport } from "../master.ts";
import { Store } from "../store.ts";
import { waitForStop } from "./_signals.ts";
import { ExitCode } from "./_exit.ts";
import { printInfo, printWarning } from "./_io.ts";

/** Options of {@link runMaster}. */
export interface MasterCommandOptions {
  /** Config file. */
  config: string;
  /** Log every rotation. */
  verbose: boolean;
}

/** One log line for a rotation. */
export function formatRotation(report: RotationReport): string {
  const at = isoTime(report.boundary);
  const what = `${report.group}:${report.interval} at ${at}`;
  return report.events < 0
    ? `${what}: already rotated (by another master or an earlier run)`
    : `rotated ${what}: ${report.events} events in ${report.durationMs.toFixed(1)} ms`;
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
  const stop = waitForStop();
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
  // Counts a switched layout left behind (a failed probe is no reason not to start).
  const leftovers = await store.otherLayoutWarnings(config.groups.values()).catch(() => []);
  for (const warning of leftovers) {
    printWarning(warning);
  }
  const rotated = master.rotatedGroups;
  let pairs = 0;
  for (const group of rotated) pairs += group.intervals.length;
  if (options.verbose) {
    for (const group of config.groups.values()) {
      const layout = store.layoutOf(group);
      if (!layout.rotates) {
        printInfo(`group ${group.name} uses layout ${layout.name}: no rotation needed`);
      }
    }
  }
  if (rotated.length === 0) {
    // Idle rather than exit: a systemd unit that runs `ecl master` neither fails nor restarts.
    printInfo(
      `master ${leadership.id}: no group needs a master (every group uses a layout without rotation); idle until stopped`,
    );
    const signal = await stop.signal;
    printInfo(`master stopping (${signal})`);
    await store.close();
    return ExitCode.Ok;
  }
  printInfo(
    `master ${leadership.id} started: ${rotated.length} groups, ${pairs} intervals, Redis at ${store.address}`,
  );
  try {
    await leadership.start();
    if (!leadership.isLeader) printInfo("this master is a standby");
    await master.start();
  } catch (error) {
    // Redis refused the lease or a rotation (e.g. the ACL user lacks a command): exit 3.
    stop.dispose();
    await leadership.stop();
    await store.close();
    throw error;
  }
  const signal = await stop.signal;
  printInfo(`master stopping (${signal})`);
  await master.stop();
  await leadership.stop();
  await store.close();
  return ExitCode.Ok;
}

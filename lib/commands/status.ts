/**
 * `ecl status`: a check for Nagios, Icinga and the like. Reads what the checks need from Redis
 * (through `lib/metrics.ts` for `python` groups; the current period and Redis's clock for
 * `periods` groups; all within {@link STATUS_TIMEOUT_MS}) and prints what `lib/format/status.ts`
 * judges; the exit code is the status's.
 * @module
 */
import { type EclConfig, loadConfig } from "../config.ts";
import {
  evaluateStatus,
  formatStatusText,
  type StatusInput,
  type StatusReport,
  statusReport,
} from "../format/status.ts";
import { readIntervals, selectIntervals } from "../metrics.ts";
import { Store } from "../store.ts";
import { CUR } from "../keys.ts";
import { graceSeconds } from "../layouts/periods.ts";
import { withTimeout } from "../_timeout.ts";
import { writeStdout } from "./_io.ts";

/** How long all reads together may take before Redis counts as not answering. */
export const STATUS_TIMEOUT_MS = 8000;

/** Options of {@link runStatus}. */
export interface StatusOptions {
  /** Config file. */
  config: string;
  /** Output format. */
  format: "text" | "json";
}

/** Redis's clock and this host's at the middle of the round trip that read it. */
async function readClock(store: Store): Promise<{ redisSeconds: number; localSeconds: number }> {
  const sent = Date.now();
  const redisSeconds = await store.time();
  return { redisSeconds, localSeconds: (sent + Date.now()) / 2000 };
}

/** Read what the checks need; Redis failures and time-outs become `redisError`. */
function gather(config: EclConfig, store: Store): Promise<StatusInput> {
  const base = { redisAddress: store.address };
  const reads = (async (): Promise<StatusInput> => {
    try {
      await store.ready();
      const pairs = selectIntervals(config, {});
      // Only groups whose layout rotates have a master to check; the others need none: their
      // current period is read on Redis's clock, which is compared with this host's.
      const rotated = pairs.filter(([group]) => store.layoutOf(group).rotates);
      const masterless = pairs.filter(([group]) => !store.layoutOf(group).rotates);
      const [{ leaseHolder, intervals }, periods, clock] = await Promise.all([
        readIntervals(store, rotated, { counts: false }),
        Promise.all(masterless.map(async ([group, interval]) => {
          const period = await store.readPeriod(group, interval, CUR, new Set(), false);
          return {
            group: group.name,
            interval: interval.name,
            seconds: interval.seconds,
            currentStart: period.start!,
            graceSeconds: graceSeconds(interval),
          };
        })),
        masterless.length === 0 ? undefined : readClock(store),
      ]);
      return {
        ...base,
        masterNeeded: rotated.length > 0,
        leaseHolder,
        intervals: intervals.map(({ last, seconds }) => ({ slot: last, seconds })),
        periods,
        clock,
      };
    } catch (error) {
      return { ...base, redisError: (error as Error).message };
    }
  })();
  return withTimeout(reads, STATUS_TIMEOUT_MS, () => ({
    ...base,
    redisError: `Redis at ${store.address} did not answer within ${STATUS_TIMEOUT_MS / 1000} s`,
  }));
}

/** Check and print; returns a Nagios exit code. */
export async function runStatus(options: StatusOptions): Promise<number> {
  let result: StatusReport;
  let config: EclConfig | undefined;
  try {
    config = await loadConfig(options.config);
  } catch (error) {
    result = statusReport("UNKNOWN", (error as Error).message.split("\n")[0], [
      { check: "config", status: "UNKNOWN", message: (error as Error).message.split("\n")[0] },
    ]);
  }
  if (config !== undefined) {
    let store: Store | undefined;
    try {
      store = new Store(config.redis, { reconnect: false, offlineQueue: false });
      result = evaluateStatus(await gather(config, store), Date.now() / 1000);
    } catch (error) {
      // E.g. a TLS file that cannot be read: the configuration is at fault.
      const message = (error as Error).message.split("\n")[0];
      result = statusReport("UNKNOWN", message, [{ check: "config", status: "UNKNOWN", message }]);
    } finally {
      await store?.close(true);
    }
  }
  await writeStdout(
    options.format === "json" ? JSON.stringify(result!) + "\n" : formatStatusText(result!),
  );
  return result!.code;
}

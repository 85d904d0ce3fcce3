/** Prometheus metrics of every (group, interval, event) (to be implemented). */
import type { EclConfig } from "./config.ts";
import type { Store } from "./store.ts";

/** Which counters {@link readMetrics} covers. */
export interface MetricsFilter {
  /** Only this group, when set. */
  group?: string;
  /** Only this interval, when set. */
  interval?: string;
}

/** The Prometheus text exposition of the counters. */
export function readMetrics(
  _store: Store,
  _config: EclConfig,
  _filter: MetricsFilter,
  _nowSeconds: number,
): Promise<string> {
  return Promise.reject(new Error("prometheus output is not implemented yet"));
}

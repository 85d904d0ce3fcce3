/** Munin output of `ecl read -f munin|munin-config` (to be implemented). */
import type { GroupConfig, IntervalConfig } from "../config.ts";
import type { Store } from "../store.ts";

/** Options of {@link muninOutput}. */
export interface MuninOutputOptions {
  /** `config` output (graph and field definitions) instead of values. */
  config: boolean;
  /** State file remembering every event ID seen (dynamic groups). */
  stateFile: string | undefined;
}

/** The text Munin expects from a plugin, for the last finished interval of (group, interval). */
export function muninOutput(
  _store: Store,
  _group: GroupConfig,
  _interval: IntervalConfig,
  _options: MuninOutputOptions,
): Promise<string> {
  return Promise.reject(new Error("munin output is not implemented yet"));
}

/**
 * Munin output of `ecl read -f munin|munin-config|munin-suggest`, and the state file that keeps
 * Munin's fields stable (see `munin/ecl_`).
 * @module
 */
import type { EclConfig, GroupConfig, IntervalConfig } from "../config.ts";
import { EclError } from "../errors.ts";
import {
  appendState,
  fieldNames,
  formatMuninConfig,
  formatMuninValues,
  muninSuggestions,
  orderIds,
  parseState,
} from "../format/munin.ts";
import { LAST } from "../keys.ts";
import { readSlot } from "../reader.ts";
import { notACountWarning, slotHealth, spanText, staleText } from "../slot_health.ts";
import type { Store } from "../store.ts";
import { fileErrorText, shorten } from "../_message.ts";
import { printWarning } from "./_io.ts";
import { findGroup } from "../lookup.ts";

/** Options of {@link muninOutput}. */
export interface MuninOutputOptions {
  /** `config` output (graph and field definitions) instead of values. */
  config: boolean;
  /** State file remembering every event ID seen (dynamic groups). */
  stateFile: string | undefined;
}

/** How long to wait for another run holding the state file's lock before giving up. */
export const STATE_LOCK_TIMEOUT_MS = 5000;
const LOCK_POLL_MS = 20;

async function readText(file: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "";
    throw new EclError(`Cannot read state file ${file}: ${fileErrorText(error)}`);
  }
}

/** The IDs remembered in a state file (none when it does not exist yet); warns about bad lines. */
export async function readState(file: string): Promise<string[]> {
  const parsed = parseState(await readText(file));
  for (const bad of parsed.bad) {
    printWarning(
      `${file}:${bad.line}: ignoring ${
        JSON.stringify(shorten(bad.text, 60))
      }: not an event ID (expected one JSON string, or the ID itself, per line)`,
    );
  }
  return parsed.ids;
}

/**
 * Hold an exclusive lock on `<file>.lock` while `body` runs. The lock is `flock`-style: the system
 * drops it when the process ends, so a run that was killed never leaves it behind. The lock file is
 * kept (removing it would let a third run lock a new file while a second still holds the old one).
 */
async function withLock<T>(file: string, body: () => Promise<T>): Promise<T> {
  const lockFile = `${file}.lock`;
  let lock: Deno.FsFile;
  try {
    lock = await Deno.open(lockFile, { read: true, write: true, create: true }).catch((error) =>
      // Made by another user (e.g. root running the plugin by hand): locking needs no write access.
      error instanceof Deno.errors.PermissionDenied ? Deno.open(lockFile) : Promise.reject(error)
    );
  } catch (error) {
    throw new EclError(`Cannot open lock file ${lockFile}: ${fileErrorText(error)}`);
  }
  try {
    const deadline = Date.now() + STATE_LOCK_TIMEOUT_MS;
    while (!(await lock.tryLock(true))) {
      if (Date.now() > deadline) {
        throw new EclError(
          `Cannot lock ${lockFile}: another run held it for more than ${
            STATE_LOCK_TIMEOUT_MS / 1000
          } s`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
    return await body();
  } finally {
    lock.close(); // releases the lock
  }
}

/** Write `text` to `file` atomically: a temporary file in the same directory, synced, renamed. */
async function replaceFile(file: string, text: string): Promise<void> {
  const slash = file.lastIndexOf("/");
  const temp = `${file.slice(0, slash + 1)}.${file.slice(slash + 1)}.${Deno.pid}.${
    crypto.randomUUID().slice(0, 8)
  }.tmp`;
  try {
    const handle = await Deno.open(temp, { write: true, createNew: true });
    try {
      const bytes = new TextEncoder().encode(text);
      for (let done = 0; done < bytes.length;) done += await handle.write(bytes.subarray(done));
      await handle.syncData();
    } finally {
      handle.close();
    }
    await Deno.rename(temp, file);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw new EclError(`Cannot write state file ${file}: ${fileErrorText(error)}`);
  }
}

/**
 * Add the IDs of `ids` that `file` does not hold yet, at its end, in the order given. Runs that
 * overlap wait for each other (a lock file) and each re-reads the file under the lock, so no ID is
 * lost; the file is replaced atomically, so a reader sees the old or the new text, never a mix.
 * Returns every ID the file holds now, in its order.
 */
export function rememberIds(file: string, ids: readonly string[]): Promise<string[]> {
  return withLock(file, async () => {
    const current = await readText(file);
    const known = parseState(current).ids;
    const knownSet = new Set(known);
    const added = [...new Set(ids)].filter((id) => !knownSet.has(id));
    if (added.length > 0) await replaceFile(file, appendState(current, added));
    return [...known, ...added];
  });
}

/**
 * The text Munin expects from a plugin, for the last finished interval of (group, interval):
 * `config` (graph and fields) or values. With a state file, every ID ever seen keeps its field
 * (0 when absent; in a group that does not auto-declare, only its configured events are printed),
 * and field names never change while the file is kept.
 */
export async function muninOutput(
  store: Store,
  group: GroupConfig,
  interval: IntervalConfig,
  options: MuninOutputOptions,
): Promise<string> {
  const remembered = options.stateFile === undefined ? [] : await readState(options.stateFile);
  const slot = await readSlot(
    store,
    group,
    interval,
    LAST,
    group.autoDeclareEvents ? remembered : [],
  );
  const printed = [...slot.counts.keys(), ...slot.invalid.keys()];
  let order = orderIds(remembered, group.events, printed);
  if (options.stateFile !== undefined && order.length > remembered.length) {
    // Name fields in the order of the file as written: another run may have added IDs meanwhile.
    order = await rememberIds(options.stateFile, order);
  }
  const names = fieldNames(order);
  const fields = new Map(printed.map((id) => [id, names.get(id)!]));
  if (options.config) {
    return formatMuninConfig({
      group: group.name,
      interval: interval.name,
      seconds: interval.seconds,
      fields,
    });
  }

  const values = new Map<string, number | undefined>(slot.counts);
  for (const [event, value] of slot.invalid) {
    printWarning(notACountWarning("Printing U for", slot, event, value));
  }
  const name = `${group.name}:${interval.name}`;
  const health = slotHealth(slot, interval.seconds, Date.now() / 1000);
  if (health.stale) {
    printWarning(`${name}: ${staleText(slot)}: printing U for every value (no master?)`);
    for (const id of values.keys()) values.set(id, undefined);
  } else if (health.complete === false && health.spanIntervals! > 1) {
    const span = health.spanIntervals!;
    printWarning(`${name}: ${spanText(slot, health)}; printing averages`);
    for (const [id, count] of values) if (count !== undefined) values.set(id, count / span);
  }
  return formatMuninValues(fields, values);
}

/** `<group>_<interval>` lines for the `ecl_` plugin's `suggest` (of one group when `group` is set). */
export function muninSuggest(config: EclConfig, group: string | undefined): string {
  const groups = group === undefined ? [...config.groups.values()] : [findGroup(config, group)];
  const suggestions = muninSuggestions(groups);
  for (const pair of suggestions.skipped) {
    printWarning(
      `not suggesting ${
        JSON.stringify(pair)
      }: its name is not [A-Za-z0-9_]; link ecl_ by hand and set env.ecl_group and env.ecl_interval`,
    );
  }
  return suggestions.text;
}

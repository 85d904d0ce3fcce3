/**
 * Adds IDs to a Munin state file one call at a time, to race other processes doing the same:
 * `deno run -A tests/_munin_state_worker.ts FILE PREFIX COUNT` adds `PREFIX-0` … `PREFIX-<COUNT-1>`,
 * each together with the ID `shared`.
 */
import { rememberIds } from "../lib/commands/_munin.ts";

const [file, prefix, count] = Deno.args;
for (let i = 0; i < Number(count); i++) await rememberIds(file, [`${prefix}-${i}`, "shared"]);

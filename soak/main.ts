/**
 * `deno task soak [--minutes N] [--seed S]`: the chaos soak (see `soak.ts`). Prints the faults
 * injected and the table of counts and rotations; exits 1 when a count was lost or doubled or a
 * boundary rotated twice or missed.
 * @module
 */
import { parseArgs } from "node:util";
import { formatSoak, runSoak, soakPassed } from "./soak.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "10" },
    seed: { type: "string" },
    quiet: { type: "boolean", default: false },
  },
});
const minutes = Number(values.minutes);
const seed = values.seed === undefined ? Math.floor(Math.random() * 1e9) : Number(values.seed);
if (!(minutes > 0) || !Number.isInteger(seed)) {
  console.error("usage: deno task soak [--minutes N] [--seed S] [--quiet]");
  Deno.exit(2);
}
const started = Date.now();
const result = await runSoak({
  durationMs: minutes * 60_000,
  seed,
  log: values.quiet
    ? undefined
    : (line) => console.error(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${line}`),
});
console.log(formatSoak(result));
Deno.exit(soakPassed(result) ? 0 : 1);

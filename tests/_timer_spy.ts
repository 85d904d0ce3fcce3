/**
 * Preloaded into a child (`deno run --preload tests/_timer_spy.ts …`): the first call of each
 * global timer function (`setTimeout`, `setInterval`, `setImmediate` and their `clear…`) prints
 * `ecl-timer-spy: NAME` and where it was called on stderr; then the function does what it does.
 * In Deno 2.9 these are Node's timers, loaded at the first call of any of them. Never import it:
 * it replaces the importer's timer functions.
 */

/** What each line the spy prints starts with (tests/startup_timers_test.ts looks for it). */
const SPY_MARK = "ecl-timer-spy:";

const NAMES = [
  "setTimeout",
  "setInterval",
  "setImmediate",
  "clearTimeout",
  "clearInterval",
  "clearImmediate",
] as const;

const global = globalThis as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const name of NAMES) {
  // The descriptor, not the value: reading the value may be what loads Node's timers.
  const original = Object.getOwnPropertyDescriptor(globalThis, name);
  if (original === undefined) continue;
  Object.defineProperty(globalThis, name, {
    configurable: true,
    writable: true,
    enumerable: original.enumerable,
    value(...args: unknown[]) {
      const at = (new Error().stack ?? "").split("\n").slice(2, 5).map((line) => line.trim());
      console.error(`${SPY_MARK} ${name} ${at.join(" <- ")}`);
      Object.defineProperty(globalThis, name, original);
      return global[name](...args);
    },
  });
}

/**
 * What ecl needs from the runtime, Deno's or Node's, without importing Node's modules: in Deno, a
 * `node:` import loads the Node compatibility layer (`node:process` alone ~10 ms and ~8 MiB) for
 * every command that reaches it, `ecl read` included. In Deno the `Deno` namespace serves; under
 * Node, `process` and (lazily) `process.getBuiltinModule`. Reading a text file and an environment
 * variable, letting a timer go, signals, the host name and process ID.
 * @module
 */

/** Signals a logger can close on (`EventCountLogger.closeOnSignals`). */
export type Signal = "SIGINT" | "SIGTERM" | "SIGHUP" | "SIGQUIT";

/** The part of Deno's API used here (absent under Node). */
interface DenoApi {
  readTextFile(path: string): Promise<string>;
  readTextFileSync(path: string): string;
  env: { get(name: string): string | undefined };
  unrefTimer(id: unknown): void;
  addSignalListener(signal: Signal, handler: () => void): void;
  removeSignalListener(signal: Signal, handler: () => void): void;
  kill(pid: number, signal: Signal): void;
  hostname(): string;
  readonly pid: number;
}

/** The part of Node's `process` used here (`getBuiltinModule`: Node ≥ 20.16). */
interface NodeProcess {
  readonly env: Record<string, string | undefined>;
  readonly pid: number;
  on(signal: Signal, handler: () => void): unknown;
  off(signal: Signal, handler: () => void): unknown;
  kill(pid: number, signal: Signal): unknown;
  getBuiltinModule(id: "node:fs"): typeof import("node:fs");
  getBuiltinModule(id: "node:os"): typeof import("node:os");
}

const deno = (globalThis as { Deno?: DenoApi }).Deno;

function nodeProcess(): NodeProcess {
  return (globalThis as unknown as { process: NodeProcess }).process;
}

/**
 * The UTF-8 text of `path`.
 * @throws the runtime's error, with Node's `code` (`ENOENT`, `EACCES`, `EISDIR`, …) in both
 */
export function readTextFile(path: string): Promise<string> {
  if (deno !== undefined) return deno.readTextFile(path);
  return nodeProcess().getBuiltinModule("node:fs").promises.readFile(path, "utf8");
}

/** {@link readTextFile}, synchronously. */
export function readTextFileSync(path: string): string {
  if (deno !== undefined) return deno.readTextFileSync(path);
  return nodeProcess().getBuiltinModule("node:fs").readFileSync(path, "utf8");
}

/**
 * The value of the environment variable `name` (`undefined` when unset).
 * @throws in Deno, when reading it is not allowed (and not ignored with `--ignore-env`)
 */
export function envVar(name: string): string | undefined {
  return deno !== undefined ? deno.env.get(name) : nodeProcess().env[name];
}

/**
 * Let the timer of `handle` (from the global `setTimeout` or `setInterval`) no longer keep the
 * process alive; it still fires while something else does. (In Deno 2.9 the global timers are
 * Node's, loaded at their first use, `clearTimeout` included: ~5 ms and ~4 MiB at start.)
 */
export function unrefTimer(handle: ReturnType<typeof setTimeout>): void {
  if (deno !== undefined) deno.unrefTimer(handle);
  else (handle as unknown as { unref(): void }).unref();
}

/**
 * Call `handler` on each `signal` (to the process) until {@link offSignal}. Where the platform has
 * no such signal (Windows has no SIGTERM), nothing: it is never sent.
 */
export function onSignal(signal: Signal, handler: () => void): void {
  if (deno === undefined) {
    nodeProcess().on(signal, handler);
    return;
  }
  try {
    deno.addSignalListener(signal, handler);
  } catch {
    // Not on this platform (as Node's process.on, which accepts it and never calls the handler).
  }
}

/** Stop calling `handler` on `signal`. */
export function offSignal(signal: Signal, handler: () => void): void {
  if (deno !== undefined) deno.removeSignalListener(signal, handler);
  else nodeProcess().off(signal, handler);
}

/** Send `signal` to this process: with no handler left, its default action (the process ends). */
export function raiseSignal(signal: Signal): void {
  if (deno !== undefined) deno.kill(deno.pid, signal);
  else nodeProcess().kill(nodeProcess().pid, signal);
}

/** The name of this machine. */
export function hostname(): string {
  return deno !== undefined
    ? deno.hostname()
    : nodeProcess().getBuiltinModule("node:os").hostname();
}

/** This process's ID. */
export function pid(): number {
  return deno !== undefined ? deno.pid : nodeProcess().pid;
}

/**
 * What ecl needs from the runtime, Deno's or Node's, without importing Node's modules up front: in
 * Deno, a top-level `node:` import loads the Node compatibility layer (~10 MiB, ~10 ms) for every
 * command, including `ecl read`. Reading a text file and an environment variable.
 * @module
 */

/** The part of Deno's API used here (absent under Node). */
interface DenoApi {
  readTextFile(path: string): Promise<string>;
  readTextFileSync(path: string): string;
  env: { get(name: string): string | undefined };
}

/** The part of Node's `process` used here (`getBuiltinModule`: Node ≥ 20.16). */
interface NodeProcess {
  readonly env: Record<string, string | undefined>;
  getBuiltinModule(id: "node:fs"): typeof import("node:fs");
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

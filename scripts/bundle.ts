/**
 * `deno task bundle [OUTPUT]`: bundle the CLI (`cli.ts` with every module and npm package it
 * loads) into one JavaScript file, `dist/ecl.js` by default. `deno task compile` builds the
 * binaries from this file.
 *
 * Why: `deno run cli.ts` resolves, stats and compiles the ~530 CommonJS files of node-redis,
 * yaml and commander one by one at every start (0.18 s for `ecl read`); the bundle is one ES
 * module that Deno keeps compiled in its code cache (0.12 s). Commands stay lazily loaded.
 *
 * @module
 */

/** Where `deno task bundle` writes the CLI bundle. */
export const BUNDLE_PATH = "dist/ecl.js";

const ROOT = new URL("..", import.meta.url).pathname;

/** `deno bundle` failed; the message has its output. */
export class BundleError extends Error {
  override name = "BundleError";
}

/**
 * Bundle `cli.ts` into `output` (a path relative to the repository root, or absolute).
 * @throws {BundleError} when `deno bundle` fails or writes nothing
 */
export async function bundleCli(output: string = BUNDLE_PATH): Promise<string> {
  const path = output.startsWith("/") ? output : ROOT + output;
  const result = await new Deno.Command(Deno.execPath(), {
    // The entry file goes last: --external and friends take several values.
    args: ["bundle", "--quiet", "--platform=deno", "--output", path, ROOT + "cli.ts"],
    cwd: ROOT,
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(result.stderr).trim();
  if (result.code !== 0) throw new BundleError(`Cannot bundle cli.ts: ${text}`);
  const size = await Deno.stat(path).then((info) => info.size, () => 0);
  if (size === 0) throw new BundleError(`Cannot bundle cli.ts: ${path} is empty or missing`);
  return path;
}

if (import.meta.main) {
  try {
    const path = await bundleCli(Deno.args[0]);
    console.log(`bundle: wrote ${path}`);
  } catch (error) {
    console.error(error instanceof BundleError ? error.message : error);
    Deno.exit(1);
  }
}

/**
 * `deno task bundle [OUTPUT]`: bundle the CLI (`cli.ts` with every module and npm package it
 * loads) into JavaScript: the entry `dist/ecl.js` by default, and beside it the directory
 * `dist/ecl/` with the chunks that the entry loads when a command needs them. `deno task compile`
 * builds the binaries from these files.
 *
 * Why: `deno run cli.ts` resolves, stats and compiles the ~530 CommonJS files of node-redis, yaml
 * and commander one by one; a bundle is a few ES modules. Split into chunks, `ecl --version`
 * loads a few kB and `ecl read` loads neither node-redis nor the code of `master` and `serve`.
 *
 * Three rewrites make the split effective: the entry's imports point into the chunk directory;
 * dynamic imports name their chunk with `new URL("./chunk.js", import.meta.url)` instead of a
 * string literal, which `deno run` would load (read and analyse) at start with everything it
 * imports, for every command (`ecl --version` took node-redis's 1.3 MB: ~3 ms, ~3 MiB), while a
 * binary loads its modules when imported (`deno task compile` includes the chunk directory); and
 * the bundler's CommonJS runtime gets Node's `require` when a CommonJS module first calls it
 * instead of importing `node:module` at start (which loads Deno's Node compatibility layer, ~20 ms,
 * for every command, `--version` included).
 *
 * @module
 */

/** Where `deno task bundle` writes the CLI bundle's entry; its chunks go to `dist/ecl/`. */
export const BUNDLE_PATH = "dist/ecl.js";

const ROOT = new URL("..", import.meta.url).pathname;

/** What the bundler writes into its CommonJS runtime to provide `require`. */
const EAGER_REQUIRE = `import { createRequire as __deno_internal_createRequire } from "node:module";
var __require = __deno_internal_createRequire(import.meta.url);`;
/** The same `require`, made at its first call. */
const LAZY_REQUIRE = `var __deno_require;
var __require = (id) => (__deno_require ??= globalThis.process.getBuiltinModule("node:module")
  .createRequire(import.meta.url))(id);`;

/** A dynamic import of a sibling chunk, as the bundler writes it. */
const LITERAL_IMPORT = /\bimport\("(\.\/[^"]+)"\)/g;

/** `source` with its dynamic imports of chunks loaded at run time only (see the module doc). */
function lazyImports(source: string): string {
  return source.replace(LITERAL_IMPORT, `import(new URL("$1", import.meta.url).href)`);
}

/** `deno bundle` failed; the message has its output. */
export class BundleError extends Error {
  override name = "BundleError";
}

/** The directory of the chunks of the bundle whose entry is `path`: `dist/ecl.js` → `dist/ecl`. */
export function chunkDirectory(path: string): string {
  return path.replace(/\.js$/, "");
}

/**
 * Bundle `cli.ts` into `output` (a path relative to the repository root, or absolute) and its
 * chunk directory (replaced).
 * @returns the path of the entry
 * @throws {BundleError} when `deno bundle` fails or writes nothing
 */
export async function bundleCli(output: string = BUNDLE_PATH): Promise<string> {
  const path = output.startsWith("/") ? output : ROOT + output;
  if (!path.endsWith(".js")) throw new BundleError(`Cannot bundle cli.ts: ${path} must end in .js`);
  const chunks = chunkDirectory(path);
  await Deno.remove(chunks, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  const result = await new Deno.Command(Deno.execPath(), {
    // The entry file goes last: --external and friends take several values.
    args: [
      "bundle",
      "--quiet",
      "--platform=deno",
      "--code-splitting",
      "--outdir",
      chunks,
      ROOT + "cli.ts",
    ],
    cwd: ROOT,
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(result.stderr).trim();
  if (result.code !== 0) throw new BundleError(`Cannot bundle cli.ts: ${text}`);
  let entry: string;
  try {
    entry = await Deno.readTextFile(`${chunks}/cli.js`);
    await Deno.remove(`${chunks}/cli.js`);
  } catch (error) {
    throw new BundleError(`Cannot bundle cli.ts: no ${chunks}/cli.js: ${(error as Error).message}`);
  }
  // The chunks import each other, never the entry: so it can live one directory up.
  const name = chunks.slice(chunks.lastIndexOf("/") + 1);
  await Deno.writeTextFile(
    path,
    lazyImports(entry.replace(/((?:^import|^\} from| from|\bimport\() ?")\.\//gm, `$1./${name}/`)),
  );
  for await (const file of Deno.readDir(chunks)) {
    const source = await Deno.readTextFile(`${chunks}/${file.name}`);
    if (/from "\.\/cli\.js"/.test(source)) {
      throw new BundleError(`Cannot bundle cli.ts: chunk ${file.name} imports the entry`);
    }
    const rewritten = lazyImports(source).replace(EAGER_REQUIRE, LAZY_REQUIRE);
    if (rewritten !== source) await Deno.writeTextFile(`${chunks}/${file.name}`, rewritten);
  }
  return path;
}

if (import.meta.main) {
  try {
    const path = await bundleCli(Deno.args[0]);
    console.log(`bundle: wrote ${path} and ${chunkDirectory(path)}/`);
  } catch (error) {
    console.error(error instanceof BundleError ? error.message : error);
    Deno.exit(1);
  }
}

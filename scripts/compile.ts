/**
 * `deno task compile [--host] [TARGET...]`: build self-contained `ecl` executables into dist/,
 * one per target, with only the permissions ecl needs, and a SHA256SUMS file. The binaries are
 * built from the CLI bundle (`deno task bundle`: dist/ecl.js and its chunks in dist/ecl/), which
 * starts much faster than cli.ts with its ~530 npm files.
 *
 * `deno compile` downloads Deno's runtime (denort) for each target from dl.deno.land; without
 * network access to it this exits 3 (and `.ci/run` then skips the build).
 */
import { createHash } from "node:crypto";
import { PERMISSIONS } from "./_permissions.ts";
import { bundleCli, BundleError, chunkDirectory } from "./bundle.ts";

const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];
const OUT_DIR = "dist";
const RUNTIME_UNAVAILABLE = 3;

const args = Deno.args.filter((arg) => arg !== "--host");
const targets = Deno.args.includes("--host")
  ? [Deno.build.target]
  : args.length > 0
  ? args
  : TARGETS;
for (const target of targets) {
  if (!TARGETS.includes(target)) {
    console.error(`Cannot build for target "${target}": expected one of ${TARGETS.join(", ")}`);
    Deno.exit(2);
  }
}

await Deno.mkdir(OUT_DIR, { recursive: true });
let entry: string;
try {
  entry = await bundleCli();
} catch (error) {
  console.error(error instanceof BundleError ? error.message : error);
  Deno.exit(1);
}
const sums: string[] = [];
for (const target of targets) {
  const output = `${OUT_DIR}/ecl-${target}${target.includes("windows") ? ".exe" : ""}`;
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      "--target",
      target,
      ...PERMISSIONS,
      // The chunks the entry imports when a command needs them.
      "--include",
      chunkDirectory(entry),
      "--output",
      output,
      entry,
    ],
    env: { RUST_BACKTRACE: "0" },
    stdout: "inherit",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(result.stderr);
  if (result.code !== 0) {
    console.error(stderr);
    if (/denort|dl\.deno\.land|error sending request/.test(stderr)) {
      console.error(
        `compile: cannot download Deno's runtime for ${target}: no network access to it`,
      );
      Deno.exit(RUNTIME_UNAVAILABLE);
    }
    Deno.exit(1);
  }
  const digest = createHash("sha256").update(await Deno.readFile(output)).digest("hex");
  sums.push(`${digest}  ${output.slice(OUT_DIR.length + 1)}`);
  console.log(`compile: built ${output}`);
}
await Deno.writeTextFile(`${OUT_DIR}/SHA256SUMS`, sums.join("\n") + "\n");
console.log(`compile: wrote ${OUT_DIR}/SHA256SUMS`);

/**
 * The CLI bundle (`deno task bundle`), which `deno task compile` turns into the binaries: every
 * command works from its entry and chunks, run with exactly the binaries' permissions.
 */
import assert from "node:assert/strict";
import { VERSION } from "../lib/version.ts";
import { PERMISSIONS } from "../scripts/_permissions.ts";
import { bundleCli } from "../scripts/bundle.ts";
import { denoCommand, finish, type ProcessResult, writeConfig } from "./_process.ts";
import { freePort, waitForKey, withRedis } from "./_redis.ts";

const dir = await Deno.makeTempDir({ prefix: "ecl-bundle-" });
// Not a test: the directory goes once this file's tests are done (also when one fails).
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
let bundled: Promise<string> | undefined;

/** The bundle, built once for this file. */
function bundle(): Promise<string> {
  bundled ??= bundleCli(`${dir}/ecl.js`);
  return bundled;
}

/** `deno run` of the bundle with the binaries' permissions, outside the repository. */
async function bundleCommand(args: string[]): Promise<Deno.Command> {
  // No config file: the bundle must not need deno.json, node_modules or the npm cache.
  return denoCommand(["run", "--quiet", "--no-config", ...PERMISSIONS, await bundle(), ...args], {
    cwd: dir,
  });
}

async function runBundle(args: string[]): Promise<ProcessResult> {
  return finish(await bundleCommand(args));
}

function configFor(port: number): Promise<string> {
  return writeConfig(`redis:
  host: 127.0.0.1
  port: ${port}
groups:
  requests:
    events: [req1, req2]
    intervals: [1s, 1h]
`);
}

Deno.test("the CLI bundle's entry prints its version and help without loading the rest", async () => {
  const path = await bundle();
  const source = await Deno.readTextFile(path);
  // The entry imports its own chunks only, and no Node module: those load Deno's Node layer.
  const imports = [...source.matchAll(/^(?:import|\} from) .*"([^"]+)";$/gm)].map((m) => m[1]);
  assert.deepEqual(imports.filter((specifier) => !specifier.startsWith("./ecl/")), []);
  for (const specifier of imports) {
    const chunk = await Deno.readTextFile(new URL(specifier, `file://${path}`));
    assert.doesNotMatch(chunk, /^import .* from "node:/m, specifier);
  }
  const version = await runBundle(["--version"]);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, new RegExp(`^ecl ${VERSION.replaceAll(".", "\\.")} \\(deno `));
  const help = await runBundle(["--help"]);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: ecl \[options\] \[command\]\n/);
  assert.match(help.stdout, /\n {2}status \[options\] <CONFIG> +check Redis/);
});

Deno.test("the CLI bundle logs, rotates and reads exact counts", () =>
  withRedis(async (server) => {
    const config = await configFor(server.port);
    try {
      const log = await runBundle(["log", config, "requests", "req1", "3"]);
      assert.deepEqual([log.code, log.stderr], [0, ""]);
      const current = await runBundle(["read", config, "-g", "requests", "-i", "1h", "--current"]);
      assert.deepEqual([current.code, current.stdout], [0, "req1:3\nreq2:0\n"], current.stderr);

      // A master started from the bundle rotates the 1 s interval: req1's 3 reach `last`.
      const master = (await bundleCommand(["master", config])).spawn();
      const raw = await server.client();
      try {
        await waitForKey(raw, "requests:1s:last:req1", (value) => value === "3", 10_000);
      } finally {
        master.kill("SIGTERM");
      }
      const stopped = await master.output();
      assert.equal(stopped.code, 0, new TextDecoder().decode(stopped.stderr));
    } finally {
      await Deno.remove(config);
    }
  }));

Deno.test("the CLI bundle reports user errors in one line with the CLI's exit codes", async () => {
  const bad = await writeConfig("groups:\n  requests:\n    intervals: [5x]\n");
  const down = await configFor(await freePort());
  try {
    const config = await runBundle(["read", bad, "-g", "requests"]);
    assert.equal(config.code, 2);
    assert.equal(config.stderr.trim().split("\n").length, 1, config.stderr);
    assert.match(
      config.stderr,
      new RegExp(`^ERROR: .*${bad}.*groups\\.requests\\.intervals\\[0\\]`),
    );

    const redis = await runBundle(["log", down, "requests", "req1"]);
    assert.equal(redis.code, 3);
    assert.match(redis.stderr, /^ERROR: /);
    assert.doesNotMatch(redis.stderr, /\n\s+at /, "no stack trace");
  } finally {
    await Deno.remove(bad);
    await Deno.remove(down);
  }
});

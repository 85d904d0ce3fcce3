/**
 * ecl as its users run it: the CLI bundle (`deno task bundle`, what `deno task compile` turns into
 * the binaries), run with exactly the binaries' permissions (scripts/_permissions.ts), without
 * deno.json, node_modules or the npm cache.
 */
import { PERMISSIONS } from "../scripts/_permissions.ts";
import { bundleCli } from "../scripts/bundle.ts";
import { denoCommand, finish, type ProcessResult } from "./_process.ts";

const dir = Deno.makeTempDirSync({ prefix: "ecl-bundle-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
let built: Promise<string> | undefined;

/** The bundle, built once per test process by `deno task bundle`'s function, in a temporary directory. */
export function eclBundle(): Promise<string> {
  built ??= bundleCli(`${dir}/ecl.js`);
  return built;
}

/** Arguments of `deno` that run the bundle as the binary runs: `deno ARGS ecl-arguments…`. */
export async function eclArgs(): Promise<string[]> {
  return ["run", "--quiet", "--no-config", ...PERMISSIONS, await eclBundle()];
}

/** `ecl ARGS` from the bundle, outside the repository, stdout and stderr piped. */
export async function eclCommand(
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<Deno.Command> {
  return denoCommand([...await eclArgs(), ...args], { cwd: dir, env: options.env });
}

/** Run `ecl ARGS` from the bundle to its end. */
export async function runEcl(
  args: string[],
  env: Record<string, string> = {},
): Promise<ProcessResult> {
  return finish(await eclCommand(args, { env }));
}

/**
 * An executable `ecl` in `binDir` that runs the bundle as the binary would: what `env.ecl_bin`
 * (Munin) or systemd's ExecStart names. Deno's cache directory is fixed, as the caller's
 * environment may have no HOME (munin-node clears it).
 */
export async function writeEclBinary(binDir: string): Promise<string> {
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  const denoDir = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir as string;
  const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
  const path = `${binDir}/ecl`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh\nDENO_DIR=${quote(denoDir)} NO_COLOR=1 RUST_BACKTRACE=0 exec ${
      [Deno.execPath(), ...await eclArgs()].map(quote).join(" ")
    } "$@"\n`,
  );
  await Deno.chmod(path, 0o755);
  return path;
}

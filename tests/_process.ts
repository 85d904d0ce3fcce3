/** Running ecl's own entry points as child processes. */

const ROOT = new URL("..", import.meta.url).pathname;

/** Output of a finished child process. */
export interface ProcessResult {
  /** Exit code. */
  code: number;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** Environment of child processes: no backtraces (RUST_BACKTRACE) mixed into stderr. */
function childEnv(env: Record<string, string>): Record<string, string> {
  return { RUST_BACKTRACE: "0", NO_COLOR: "1", ...env };
}

/** `deno run -A <script> ...args`, from the repository root; waits for it. */
export async function runScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<ProcessResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", ROOT + script, ...args],
    cwd: ROOT,
    env: childEnv(env),
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** The CLI (`cli.ts`, the entry point `deno compile` builds) with `args`. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<ProcessResult> {
  return runScript("cli.ts", args, env);
}

/** Start `deno run -A <script> ...args` without waiting; stdout/stderr are piped. */
export function spawnScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", ROOT + script, ...args],
    cwd: ROOT,
    env: childEnv(env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Write a YAML config into a temporary file; returns its path. */
export async function writeConfig(yaml: string): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "ecl-config-", suffix: ".yml" });
  await Deno.writeTextFile(path, yaml);
  return path;
}

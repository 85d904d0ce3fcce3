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

/** `deno ARGS` (any subcommand), in `cwd` (default: the repository root), stdout/stderr piped. */
export function denoCommand(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd ?? ROOT,
    env: childEnv(options.env ?? {}),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Run `command` to its end; returns its exit code and decoded output. */
export async function finish(command: Deno.Command): Promise<ProcessResult> {
  const output = await command.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** `deno run -A <script> ...args`, from the repository root; waits for it. */
export function runScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<ProcessResult> {
  return finish(denoCommand(["run", "-A", "--quiet", ROOT + script, ...args], { env }));
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
  return denoCommand(["run", "-A", "--quiet", ROOT + script, ...args], { env }).spawn();
}

/** Write a YAML config into a temporary file; returns its path. */
export async function writeConfig(yaml: string): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "ecl-config-", suffix: ".yml" });
  await Deno.writeTextFile(path, yaml);
  return path;
}

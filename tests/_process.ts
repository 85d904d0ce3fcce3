/**
 * Running ecl's own entry points as child processes, with deadlines: a child that does not exit, or
 * does not print the line a test waits for, fails the test naming the command and what it printed,
 * instead of hanging the suite.
 */
import { WAIT_TIMEOUT_MS, WaitTimeoutError } from "./_wait.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/**
 * Deadline of a child process's exit, by default: longer than {@link WAIT_TIMEOUT_MS} (a child may
 * itself wait that long for something), well under a minute.
 */
export const EXIT_TIMEOUT_MS = 45_000;

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

/** The last lines of `text`, for failure messages. */
function tail(text: string, lines = 8): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * A running child process whose stdout and stderr are collected as they come, so that a test can
 * wait for a line it prints (with a deadline) and then for its exit (with a deadline).
 */
export class Child {
  /** Names the child in failure messages. */
  readonly name: string;
  readonly #process: Deno.ChildProcess;
  #stdout = "";
  #stderr = "";
  readonly #drained: Promise<void>;
  readonly #status: Promise<Deno.CommandStatus>;
  #exited: Deno.CommandStatus | undefined;
  /** Called whenever output arrives or the process ends. */
  readonly #listeners = new Set<() => void>();

  /** Watch `process` (spawned with stdout and stderr piped), named `name` in messages. */
  constructor(process: Deno.ChildProcess, name: string) {
    this.#process = process;
    this.name = name;
    this.#drained = Promise.all([
      this.#collect(process.stdout, (text) => this.#stdout += text),
      this.#collect(process.stderr, (text) => this.#stderr += text),
    ]).then(() => undefined);
    this.#status = process.status.then((status) => {
      this.#exited = status;
      this.#notify();
      return status;
    });
  }

  async #collect(stream: ReadableStream<Uint8Array>, add: (text: string) => void): Promise<void> {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      add(text);
      this.#notify();
    }
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }

  /** Process ID. */
  get pid(): number {
    return this.#process.pid;
  }

  /** What the child wrote to stdout so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** What the child wrote to stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Send `signal`, unless the child has exited already. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.#exited !== undefined) return;
    try {
      this.#process.kill(signal);
    } catch {
      // Exited meanwhile.
    }
  }

  /**
   * Wait until `done(child)` holds for the output so far. Fails naming `what` and showing the end
   * of stderr when the child exits first or `timeoutMs` passes.
   */
  until(what: string, done: (child: Child) => boolean, timeoutMs = WAIT_TIMEOUT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const settle = (error?: Error) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        if (error === undefined) resolve();
        else reject(error);
      };
      const check = () => {
        if (done(this)) settle();
        else if (this.#exited !== undefined) {
          // The last output may arrive after the exit status: decide once it is all read.
          this.#drained.then(() =>
            settle(
              done(this) ? undefined : new Error(
                `no ${what}: ${this.name} exited with code ${this.#exited?.code} first; stderr:\n${
                  tail(this.#stderr)
                }`,
              ),
            )
          );
        }
      };
      const timer = setTimeout(
        () =>
          settle(
            new WaitTimeoutError(
              `${what} from ${this.name}`,
              timeoutMs,
              `stderr so far:\n${tail(this.#stderr)}`,
            ),
          ),
        timeoutMs,
      );
      this.#listeners.add(check);
      check();
    });
  }

  /** Wait until a line of `stream` matches `pattern`; see {@link Child.until}. */
  waitForLine(
    stream: "stdout" | "stderr",
    pattern: RegExp,
    timeoutMs = WAIT_TIMEOUT_MS,
  ): Promise<void> {
    const line = new RegExp(pattern.source, pattern.flags.includes("m") ? "" : "m");
    return this.until(
      `line matching ${pattern} on ${stream}`,
      (child) => line.test(child[stream]),
      timeoutMs,
    );
  }

  /**
   * Wait for the child to exit and for all its output. After `timeoutMs` it is killed (SIGKILL)
   * and the wait fails naming it and showing the end of its stderr.
   */
  async exit(timeoutMs = EXIT_TIMEOUT_MS): Promise<ProcessResult> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<true>((resolve) =>
      timer = setTimeout(() => resolve(true), timeoutMs)
    );
    try {
      if (await Promise.race([this.#status.then(() => false), timedOut])) {
        this.kill("SIGKILL");
        await this.#status;
        await this.#drained;
        throw new WaitTimeoutError(
          `exit of ${this.name}`,
          timeoutMs,
          `killed; stderr:\n${tail(this.#stderr)}`,
        );
      }
    } finally {
      clearTimeout(timer);
    }
    await this.#drained;
    return { code: this.#exited!.code, stdout: this.#stdout, stderr: this.#stderr };
  }
}

/** Start `command` (stdout and stderr piped) as a watched {@link Child} named `name`. */
export function spawn(command: Deno.Command, name: string): Child {
  return new Child(command.spawn(), name);
}

/**
 * Run `command` to its end; returns its exit code and decoded output. A command that has not
 * exited after `timeoutMs` is killed and the call fails naming `name`.
 */
export function finish(
  command: Deno.Command,
  { name = "child process", timeoutMs = EXIT_TIMEOUT_MS }: { name?: string; timeoutMs?: number } =
    {},
): Promise<ProcessResult> {
  return spawn(command, name).exit(timeoutMs);
}

function scriptName(script: string, args: string[]): string {
  return `\`${[script, ...args].join(" ")}\``;
}

/** `deno run -A <script> ...args`, from the repository root; waits for it (with a deadline). */
export function runScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<ProcessResult> {
  return finish(denoCommand(["run", "-A", "--quiet", ROOT + script, ...args], { env }), {
    name: scriptName(script, args),
  });
}

/** The CLI (`cli.ts`, the entry point `deno compile` builds) with `args`. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<ProcessResult> {
  return runScript("cli.ts", args, env);
}

/**
 * Start `deno run -A <script> ...args` without waiting; stdout/stderr are piped. Its `output()`
 * has a deadline ({@link EXIT_TIMEOUT_MS}): a child that has not exited by then is killed and the
 * call fails naming it. (For waiting on a line it prints, use {@link startScript}.)
 */
export function spawnScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Deno.ChildProcess {
  const child = denoCommand(["run", "-A", "--quiet", ROOT + script, ...args], { env }).spawn();
  const output = child.output.bind(child);
  child.output = async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<true>((resolve) =>
      timer = setTimeout(() => resolve(true), EXIT_TIMEOUT_MS)
    );
    const result = output();
    try {
      if (await Promise.race([result.then(() => false), timedOut])) {
        try {
          child.kill("SIGKILL");
        } catch {
          // Exited meanwhile.
        }
        const { stderr } = await result;
        throw new WaitTimeoutError(
          `exit of ${scriptName(script, args)}`,
          EXIT_TIMEOUT_MS,
          `killed; stderr:\n${tail(new TextDecoder().decode(stderr))}`,
        );
      }
      return await result;
    } finally {
      clearTimeout(timer);
    }
  };
  return child;
}

/** Start `deno run -A <script> ...args` as a watched {@link Child}. */
export function startScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Child {
  return new Child(spawnScript(script, args, env), scriptName(script, args));
}

/** Write a YAML config into a temporary file; returns its path. */
export async function writeConfig(yaml: string): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "ecl-config-", suffix: ".yml" });
  await Deno.writeTextFile(path, yaml);
  return path;
}

/**
 * A child process of the soak (a logger or a master): its output read line by line as it comes
 * (a pipe nobody reads would block the child), the last lines kept for the report.
 * @module
 */
import { denoCommand } from "../tests/_process.ts";

const KEEP_LINES = 60;

/** A running `deno run -A SCRIPT ...ARGS`. */
export class Child {
  readonly #process: Deno.ChildProcess;
  /** The last lines of stderr, for reports. */
  readonly stderr: string[] = [];
  /** Resolves with the exit code (a signal gives 128 + its number). */
  readonly exited: Promise<number>;
  /** The signal sent last, if any. */
  signalled: Deno.Signal | undefined;
  #exitCode: number | undefined;

  /** Start `script` (a path from the repository root); `onLine` gets every stdout line. */
  constructor(script: string, args: string[], onLine: (line: string) => void = () => {}) {
    const root = new URL("..", import.meta.url).pathname;
    this.#process = denoCommand(["run", "-A", "--quiet", root + script, ...args]).spawn();
    const out = readLines(this.#process.stdout, onLine);
    const err = readLines(this.#process.stderr, (line) => {
      this.stderr.push(line);
      if (this.stderr.length > KEEP_LINES) this.stderr.shift();
    });
    this.exited = Promise.all([this.#process.status, out, err]).then(([status]) => {
      this.#exitCode = status.code;
      return status.code;
    });
  }

  /** Whether the process has exited. */
  get done(): boolean {
    return this.#exitCode !== undefined;
  }

  /** Send `signal` (nothing when the process is gone already). */
  kill(signal: Deno.Signal): void {
    if (this.done) return;
    this.signalled = signal;
    try {
      this.#process.kill(signal);
    } catch {
      // Exited meanwhile.
    }
  }
}

async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop()!;
    for (const line of lines) onLine(line);
  }
  if (rest !== "") onLine(rest);
}

/** Resolves with `promise`, or rejects with `no <what> after <ms> ms`. */
export function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

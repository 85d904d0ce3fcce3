/**
 * Headless Chromium for tests, driven through the DevTools protocol over its
 * `--remote-debugging-port` with Deno's WebSocket (no driver package, no browser download).
 * {@link findChromium} says why there is none, for a skip message.
 */
import { readUntil, waitFor } from "./_wait.ts";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
/** Deadline of one protocol call. */
const CALL_TIMEOUT_MS = 30_000;

/** The Chromium executable, or why there is none. */
export function findChromium(): { path: string } | { missing: string } {
  const env = Deno.env.get("CHROMIUM");
  for (const path of env ? [env] : CANDIDATES) {
    try {
      if (Deno.statSync(path).isFile) return { path };
    } catch {
      // try the next one
    }
  }
  return {
    missing: `no Chromium at ${(env ? [env] : CANDIDATES).join(", ")} ` +
      "(install Debian's chromium package, or set CHROMIUM to its path)",
  };
}

/** A protocol event. */
export interface CdpEvent {
  method: string;
  // deno-lint-ignore no-explicit-any
  params: any;
}

/** One page of a headless Chromium. */
export class Browser {
  readonly events: CdpEvent[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #dir: string;
  readonly #socket: WebSocket;
  // deno-lint-ignore no-explicit-any
  readonly #pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  #nextId = 1;

  private constructor(child: Deno.ChildProcess, dir: string, socket: WebSocket) {
    this.#child = child;
    this.#dir = dir;
    this.#socket = socket;
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data as string);
      if (data.id !== undefined) {
        const waiting = this.#pending.get(data.id);
        this.#pending.delete(data.id);
        if (data.error) waiting?.reject(new Error(`CDP: ${JSON.stringify(data.error)}`));
        else waiting?.resolve(data.result);
      } else {
        this.events.push({ method: data.method, params: data.params });
      }
    };
  }

  /** Start Chromium (`path`) headless with one blank page, `width`×`height` CSS pixels. */
  static async launch(path: string, width = 1280, height = 900): Promise<Browser> {
    const dir = await Deno.makeTempDir({ prefix: "ecl-chromium-" });
    const child = new Deno.Command(path, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--hide-scrollbars",
        "--mute-audio",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        `--user-data-dir=${dir}`,
        `--window-size=${width},${height}`,
        "about:blank",
      ],
      // Times on the page in UTC, so that tests can compare them.
      env: { TZ: "UTC", LANG: "C.UTF-8" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      const { match } = await readUntil(
        child.stderr,
        /DevTools listening on (ws:\/\/[^\s]+)/,
        "DevTools line from Chromium",
      );
      const origin = new URL(match[1]).host;
      let page: { webSocketDebuggerUrl: string } | undefined;
      await waitFor("a page target in Chromium", async () => {
        const targets = await (await fetch(`http://${origin}/json/list`)).json();
        page = targets.find((t: { type: string }) => t.type === "page");
        return page !== undefined;
      }, { timeoutMs: 10_000, everyMs: 100 });
      const socket = new WebSocket(page!.webSocketDebuggerUrl);
      await new Promise<void>((resolve, reject) => {
        socket.onopen = () => resolve();
        socket.onerror = () => reject(new Error("cannot open the DevTools WebSocket"));
      });
      return new Browser(child, dir, socket);
    } catch (error) {
      child.kill("SIGKILL");
      await child.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw error;
    }
  }

  /** Call a protocol method; fails after {@link CALL_TIMEOUT_MS}. */
  // deno-lint-ignore no-explicit-any
  call(method: string, params: Record<string, unknown> = {}): Promise<any> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`no answer to ${method} after ${CALL_TIMEOUT_MS} ms`));
      }, CALL_TIMEOUT_MS);
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** The value of `expression` (awaited) in the page. */
  // deno-lint-ignore no-explicit-any
  async evaluate(expression: string): Promise<any> {
    const result = await this.call("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    if (result.exceptionDetails) {
      throw new Error(`page: ${JSON.stringify(result.exceptionDetails.exception?.description)}`);
    }
    return result.result.value;
  }

  /** Stop Chromium and remove its profile. */
  async close(): Promise<void> {
    try {
      this.#socket.close();
    } catch {
      // already closed
    }
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await this.#child.status;
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

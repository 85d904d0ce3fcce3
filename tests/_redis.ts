/**
 * Real redis-server processes for tests, on free loopback ports (never 6379). Each server gets its
 * own data directory; tests can stop, kill and restart it for fault scenarios.
 */
import { createClient } from "@redis/client";
import { createServer } from "node:net";
import type { RedisSpec } from "../lib/config.ts";

const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 10_000;

function connectRaw(url: string) {
  const client = createClient({ url });
  client.on("error", () => {});
  return client;
}
/** A raw node-redis client, for checking what is stored (the "other implementation" view). */
export type RawClient = ReturnType<typeof connectRaw>;

/** A free TCP port on loopback (the OS picks one; we release it for redis-server). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function answersPing(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: HOST, port });
    try {
      await conn.write(new TextEncoder().encode("PING\r\n"));
      const buffer = new Uint8Array(64);
      const read = await conn.read(buffer);
      return read !== null &&
        new TextDecoder().decode(buffer.subarray(0, read)).startsWith("+PONG");
    } finally {
      conn.close();
    }
  } catch {
    return false;
  }
}

/** A redis-server child process. */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  readonly #extraArgs: string[];
  #process: Deno.ChildProcess | undefined;
  readonly #clients: RawClient[] = [];

  private constructor(port: number, dir: string, extraArgs: string[]) {
    this.port = port;
    this.dir = dir;
    this.#extraArgs = extraArgs;
  }

  /** Start a server on a free port; `extraArgs` are redis-server options such as `--appendonly yes`. */
  static async start(extraArgs: string[] = []): Promise<RedisServer> {
    const dir = await Deno.makeTempDir({ prefix: "ecl-redis-" });
    const server = new RedisServer(await freePort(), dir, extraArgs);
    await server.#launch();
    return server;
  }

  /** Start a server on a given port (e.g. one a client is already trying to reach). */
  static async startOn(port: number, extraArgs: string[] = []): Promise<RedisServer> {
    const dir = await Deno.makeTempDir({ prefix: "ecl-redis-" });
    const server = new RedisServer(port, dir, extraArgs);
    await server.#launch();
    return server;
  }

  /** `redis://127.0.0.1:PORT`. */
  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  /** The `redis:` section of a config for this server. */
  get spec(): RedisSpec {
    return { host: HOST, port: this.port };
  }

  async #launch(): Promise<void> {
    this.#process = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(this.port),
        "--bind",
        HOST,
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        this.dir,
        "--daemonize",
        "no",
        ...this.#extraArgs,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await answersPing(this.port))) {
      if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${this.port}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** A connected raw client, closed by {@link RedisServer.stop}. */
  async client(): Promise<RawClient> {
    const client = connectRaw(this.url);
    await client.connect();
    this.#clients.push(client);
    return client;
  }

  /** Send `signal` to the server and wait for it to exit. */
  async #signal(signal: Deno.Signal): Promise<void> {
    const process = this.#process;
    if (process === undefined) return;
    this.#process = undefined;
    try {
      process.kill(signal);
    } catch {
      // Already gone.
    }
    await process.status;
  }

  /** Kill the server with SIGKILL (no shutdown save). */
  kill(): Promise<void> {
    return this.#signal("SIGKILL");
  }

  /** Pause the server (SIGSTOP): connections stay open but nothing is answered. */
  pause(): void {
    this.#process?.kill("SIGSTOP");
  }

  /** Resume a paused server. */
  resume(): void {
    this.#process?.kill("SIGCONT");
  }

  /** Start the server again on the same port and data directory. */
  async restart(): Promise<void> {
    await this.#signal("SIGKILL");
    await this.#launch();
  }

  /** Close every raw client, stop the server and remove its directory. */
  async stop(): Promise<void> {
    for (const client of this.#clients.splice(0)) {
      try {
        client.destroy();
      } catch {
        // Already closed.
      }
    }
    await this.#signal("SIGTERM");
    await Deno.remove(this.dir, { recursive: true });
  }
}

/** Run `body` with a fresh server that is stopped afterwards. */
export async function withRedis<T>(
  body: (server: RedisServer) => Promise<T>,
  extraArgs: string[] = [],
): Promise<T> {
  const server = await RedisServer.start(extraArgs);
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

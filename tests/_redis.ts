/**
 * Real redis-server processes for tests, on free loopback ports (never 6379). Each server gets its
 * own data directory; tests can stop, kill and restart it for fault scenarios. A server started
 * with `{ tls: true }` speaks only TLS, with a throwaway CA made by `openssl` in its directory.
 */
import { createClient } from "@redis/client";
import { createServer } from "node:net";
import type { RedisSpec } from "../lib/redis_config.ts";
import { WaitFailed, waitFor, within } from "./_wait.ts";

const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 10_000;

/** PEM files of a throwaway CA and of a server certificate it signed. */
export interface TlsFiles {
  /** Certificate of the CA. */
  readonly caFile: string;
  /** Server certificate, for `127.0.0.1` and `localhost`. */
  readonly certFile: string;
  /** Private key of the server certificate. */
  readonly keyFile: string;
}

/** Options of {@link RedisServer.start}. */
export interface RedisServerOptions {
  /**
   * Serve TLS only (`--port 0 --tls-port PORT`, clients not asked for certificates): `true` makes
   * a throwaway CA in the server's directory; given files are used as they are.
   */
  tls?: boolean | TlsFiles;
}

/** Credentials of a raw client (an ACL user). */
export interface RawCredentials {
  /** ACL user name. */
  username?: string;
  /** Password. */
  password?: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const output = await new Deno.Command("openssl", { args, cwd, stdin: "null" }).output();
  if (!output.success) {
    throw new Error(
      `openssl ${args[0]} failed: ${new TextDecoder().decode(output.stderr).trim()}`,
    );
  }
}

/**
 * Make a throwaway CA and a server certificate it signed in `dir` with `openssl`: EC keys, valid
 * for two days, for the names in `subjectAltName` (by default IP 127.0.0.1 and DNS localhost).
 */
export async function makeTlsFiles(
  dir: string,
  subjectAltName = "IP:127.0.0.1,DNS:localhost",
): Promise<TlsFiles> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2"].concat(
      ["-subj", "/CN=ecl test CA"],
    ),
    dir,
  );
  await openssl(
    ["req", "-new", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
    dir,
  );
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    `subjectAltName=${subjectAltName}\nbasicConstraints=CA:FALSE\n` +
      "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.crt",
    "-days",
    "2",
    "-extfile",
    "server.ext",
  ], dir);
  return { caFile: `${dir}/ca.crt`, certFile: `${dir}/server.crt`, keyFile: `${dir}/server.key` };
}

function connectRaw(
  port: number,
  tls: TlsFiles | undefined,
  credentials: RawCredentials = {},
) {
  const client = createClient({
    socket: tls === undefined
      ? { host: HOST, port }
      : { host: HOST, port, tls: true, ca: Deno.readTextFileSync(tls.caFile) },
    username: credentials.username,
    password: credentials.password,
  });
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

async function answersPing(port: number, tls: TlsFiles | undefined): Promise<boolean> {
  if (tls !== undefined) return await answersTlsPing(port, tls);
  try {
    const conn = await Deno.connect({ hostname: HOST, port });
    try {
      await conn.write(new TextEncoder().encode("PING\r\n"));
      const buffer = new Uint8Array(64);
      const read = await conn.read(buffer);
      // A server with a password answers -NOAUTH: it is up all the same.
      return read !== null &&
        /^(\+PONG|-NOAUTH)/.test(new TextDecoder().decode(buffer.subarray(0, read)));
    } finally {
      conn.close();
    }
  } catch {
    return false;
  }
}

/**
 * PING over TLS with `redis-cli`, which checks the certificate chain but not the name: servers
 * whose certificate is for another name are up too.
 */
async function answersTlsPing(port: number, tls: TlsFiles): Promise<boolean> {
  const output = await new Deno.Command("redis-cli", {
    args: ["--tls", "--cacert", tls.caFile, "-h", HOST, "-p", String(port), "ping"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  return /^(PONG|NOAUTH)/.test(new TextDecoder().decode(output.stdout));
}

/** A redis-server child process. */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  /** The CA and server certificate of a TLS server; `undefined` for plain TCP. */
  readonly tls: TlsFiles | undefined;
  #extraArgs: string[];
  #process: Deno.ChildProcess | undefined;
  readonly #clients: RawClient[] = [];

  private constructor(port: number, dir: string, extraArgs: string[], tls: TlsFiles | undefined) {
    this.port = port;
    this.dir = dir;
    this.#extraArgs = extraArgs;
    this.tls = tls;
  }

  /**
   * Start a server on a free port; `extraArgs` are redis-server options such as `--appendonly yes`.
   * With `{ tls }`, `port` is the TLS port and the server has no plain TCP port.
   */
  static start(extraArgs: string[] = [], options: RedisServerOptions = {}): Promise<RedisServer> {
    return RedisServer.#create(undefined, extraArgs, options);
  }

  /** Start a server on a given port (e.g. one a client is already trying to reach). */
  static startOn(
    port: number,
    extraArgs: string[] = [],
    options: RedisServerOptions = {},
  ): Promise<RedisServer> {
    return RedisServer.#create(port, extraArgs, options);
  }

  static async #create(
    port: number | undefined,
    extraArgs: string[],
    options: RedisServerOptions,
  ): Promise<RedisServer> {
    const dir = await Deno.makeTempDir({ prefix: "ecl-redis-" });
    let server: RedisServer | undefined;
    try {
      const tls = options.tls === true
        ? await makeTlsFiles(dir)
        : options.tls === false
        ? undefined
        : options.tls;
      server = new RedisServer(port ?? await freePort(), dir, extraArgs, tls);
      await server.#launch();
      return server;
    } catch (error) {
      if (server !== undefined) await server.#signal("SIGKILL");
      await Deno.remove(dir, { recursive: true });
      throw error;
    }
  }

  /** Whether the server process is running (not killed or stopped). */
  get running(): boolean {
    return this.#process !== undefined;
  }

  /** `redis://127.0.0.1:PORT`, or `rediss://…` for a TLS server. */
  get url(): string {
    return `${this.tls === undefined ? "redis" : "rediss"}://${HOST}:${this.port}`;
  }

  /** The `redis:` section of a config for this server (with `tls.ca_file` for a TLS server). */
  get spec(): RedisSpec {
    return this.tls === undefined
      ? { host: HOST, port: this.port }
      : { host: HOST, port: this.port, tls: { ca_file: this.tls.caFile } };
  }

  async #launch(): Promise<void> {
    const ports = this.tls === undefined ? ["--port", String(this.port)] : [
      "--port",
      "0",
      "--tls-port",
      String(this.port),
      "--tls-cert-file",
      this.tls.certFile,
      "--tls-key-file",
      this.tls.keyFile,
      "--tls-ca-cert-file",
      this.tls.caFile,
      "--tls-auth-clients",
      "no",
    ];
    this.#process = new Deno.Command("redis-server", {
      args: [
        ...ports,
        "--bind",
        HOST,
        // Clients of a TLS server may name it "localhost" (the certificate's DNS name), which can
        // resolve to ::1 first; "-" makes that address optional.
        ...(this.tls === undefined ? [] : ["-::1"]),
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
    const process = this.#process;
    let exited = false;
    process.status.then(() => exited = true);
    await waitFor(`redis-server answering PING on port ${this.port}`, async () => {
      if (exited) throw new WaitFailed(`redis-server on port ${this.port} exited at start`);
      return await answersPing(this.port, this.tls);
    }, { timeoutMs: START_TIMEOUT_MS, everyMs: 10 });
  }

  /**
   * A connected raw client (over TLS for a TLS server), closed by {@link RedisServer.stop}; as the
   * default user unless `credentials` name another.
   */
  async client(credentials?: RawCredentials): Promise<RawClient> {
    const client = connectRaw(this.port, this.tls, credentials);
    await within(`connection to redis-server on port ${this.port}`, client.connect());
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
    await within(`exit of redis-server on port ${this.port} after ${signal}`, process.status);
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

  /**
   * Start the server again on the same port and data directory; `extraArgs`, when given, replace
   * the options it was started with (e.g. `--replicaof` for an old master rejoining as a replica).
   */
  async restart(extraArgs?: string[]): Promise<void> {
    await this.#signal("SIGKILL");
    if (extraArgs !== undefined) this.#extraArgs = extraArgs;
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
  options: RedisServerOptions = {},
): Promise<T> {
  const server = await RedisServer.start(extraArgs, options);
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

/** Wait until something accepts TCP connections on `port` of loopback (a server started). */
export function waitForPort(port: number, what = `a server on port ${port}`): Promise<void> {
  return waitFor(`${what} accepting connections`, async () => {
    const conn = await Deno.connect({ hostname: HOST, port });
    conn.close();
    return true;
  }, { everyMs: 20 });
}

/**
 * Wait until `key` holds a value for which `expected` holds (by default: any value); returns it.
 * Fails naming the key and the last value seen.
 */
export async function waitForKey(
  client: RawClient,
  key: string,
  expected: (value: string) => boolean = () => true,
  timeoutMs?: number,
): Promise<string> {
  let last: string | null = null;
  await waitFor(
    `key ${key} written as expected`,
    async () => {
      last = await client.get(key);
      return last !== null && expected(last);
    },
    { timeoutMs },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last value of ${key}: ${JSON.stringify(last)}`);
  });
  return last!;
}

/** `master_repl_offset` in the `INFO replication` of `client`'s server. */
async function replicationOffset(client: RawClient): Promise<number> {
  const info = await client.sendCommand(["INFO", "replication"]) as string;
  return Number(/^master_repl_offset:(\d+)/m.exec(info)?.[1] ?? -1);
}

/**
 * Wait until `replica` has processed everything its master (`master`) has written so far. (Not
 * `WAIT`: it waits for the offset of the calling client's own last write, and a client that wrote
 * nothing gets its answer at once.) Hold the master's writes first (`CLIENT PAUSE … WRITE`) for a
 * replica that has everything when the master is killed.
 */
export async function waitForReplica(
  master: RawClient,
  replica: RawClient,
  what = "the replica",
): Promise<void> {
  const offset = await replicationOffset(master);
  await waitFor(
    `${what} at replication offset ${offset}`,
    async () => await replicationOffset(replica) >= offset,
    { everyMs: 10 },
  );
}

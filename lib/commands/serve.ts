/**
 * `ecl serve`: an HTTP endpoint for Prometheus (`GET /metrics`) and for health checks
 * (`GET /healthz`).
 *
 * - One read of Redis per path at a time: a request that arrives while one is under way shares
 *   its result, so a burst of requests (or many Prometheus servers) costs Redis one read, and a
 *   normal scrape is answered among them.
 * - A request waits at most {@link REQUEST_TIMEOUT_MS} for Redis: then `/metrics` answers with
 *   `ecl_redis_up 0` and `/healthz` with 503. The read goes on in the background until Redis
 *   answers or the connection drops; requests meanwhile share it.
 * - Idle connections and requests that send their headers slowly cost a file descriptor and a
 *   few KiB each (Deno raises the soft limit of open files to the hard one); a header block over
 *   ~400 KiB is refused with 400.
 * - Responses never hold passwords, file paths or Redis addresses: only group, interval and event
 *   names, counts, and the ID of the master holding the lease.
 * @module
 */
import { type EclConfig, loadConfig } from "../config.ts";
import { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from "../format/prometheus.ts";
import { RedisError } from "../errors.ts";
import { readSnapshot } from "../metrics.ts";
import { Store } from "../store.ts";
import { waitForStop } from "./_signals.ts";
import { ExitCode } from "./_exit.ts";
import { printInfo, printWarning } from "./_io.ts";

/** How long a request waits for Redis before it reports it down. */
export const REQUEST_TIMEOUT_MS = 5000;

const TEXT = "text/plain; charset=utf-8";
const ALLOWED_METHODS = "GET, HEAD";

/** Options of {@link runServe}. */
export interface ServeOptions {
  /** Config file. */
  config: string;
  /** `host:port` to listen on. */
  listen: string;
}

/** Where to listen. */
export interface ListenAddress {
  /** Host name or address (IPv6 without brackets). */
  hostname: string;
  /** TCP port; 0 lets the system choose one. */
  port: number;
}

/**
 * Parse `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (every IPv4 interface).
 * @throws {RangeError} naming the value when it is none of these
 */
export function parseListen(listen: string): ListenAddress {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(listen);
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || port > 65535) {
    throw new RangeError(
      `Cannot listen on ${
        JSON.stringify(listen)
      }: expected HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:9464`,
    );
  }
  return { hostname: match[1] ?? (match[2] === "" ? "0.0.0.0" : match[2]), port };
}

function urlHost(hostname: string, port: number): string {
  return `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "Content-Type": TEXT, "Cache-Control": "no-store", ...headers },
  });
}

/** `promise`'s value, or `fallback` when it takes longer than `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => timer = setTimeout(() => resolve(fallback), ms));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The request handler of `ecl serve`, apart from the listening socket (for tests). */
export function createHandler(
  config: EclConfig,
  store: Store,
): (request: Request) => Promise<Response> {
  const reading = new Map<string, Promise<unknown>>();

  /** The result of `work`, started unless a read of `path` is under way; `fallback` after the timeout. */
  function shared<T>(path: string, work: () => Promise<T>, fallback: T): Promise<T> {
    let running = reading.get(path) as Promise<T> | undefined;
    if (running === undefined) {
      running = work();
      reading.set(path, running);
      const done = () => void reading.delete(path);
      running.then(done, done);
    }
    return withTimeout(running, REQUEST_TIMEOUT_MS, fallback);
  }

  const routes: Record<string, () => Promise<Response>> = {
    // The text is made once per read: requests that share a read share it too.
    "/metrics": () =>
      shared(
        "/metrics",
        async () => formatPrometheus(await readSnapshot(store, config, {}), Date.now() / 1000),
        undefined,
      ).then((body) =>
        new Response(body ?? formatPrometheus({ redisUp: false }, Date.now() / 1000), {
          headers: { "Content-Type": PROMETHEUS_CONTENT_TYPE, "Cache-Control": "no-store" },
        })
      ),
    "/healthz": () =>
      shared(
        "/healthz",
        () =>
          store.leaseHolder().then(() => true, (error) => {
            if (error instanceof RedisError) return false;
            throw error;
          }),
        false,
      ).then((up) => up ? text(200, "ok\n") : text(503, "Redis does not answer\n")),
  };

  return (request) => {
    const route = routes[new URL(request.url).pathname];
    if (route === undefined) return Promise.resolve(text(404, "not found\n"));
    if (request.method !== "GET" && request.method !== "HEAD") {
      return Promise.resolve(
        text(405, "method not allowed\n", { Allow: ALLOWED_METHODS }),
      );
    }
    return route();
  };
}

/** Serve until SIGINT or SIGTERM; returns the exit code. */
export async function runServe(options: ServeOptions): Promise<number> {
  const address = parseListen(options.listen);
  const config = await loadConfig(options.config);
  const store = new Store(config.redis, {
    // Reads fail at once while disconnected instead of waiting for Redis.
    offlineQueue: false,
    onWarning: printWarning,
    onReconnect: printInfo,
  });
  const controller = new AbortController();
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: address.hostname,
      port: address.port,
      signal: controller.signal,
      onListen: ({ hostname, port }) =>
        printInfo(`serving http://${urlHost(hostname, port)}/metrics`),
      onError: (error) => {
        printWarning(`internal error: ${(error as Error)?.stack ?? String(error)}`);
        return text(500, "internal error\n");
      },
    }, createHandler(config, store));
  } catch (error) {
    await store.close(true);
    throw new RangeError(
      `Cannot listen on ${urlHost(address.hostname, address.port)}: ${(error as Error).message}`,
    );
  }
  const stop = waitForStop();
  // Connect now (in the background, retrying): an outage is reported before the first scrape.
  store.connect().catch(() => {});
  const signal = await stop.signal;
  printInfo(`serve stopping (${signal})`);
  controller.abort();
  await server.finished;
  // Nothing to write: drop the connection even if reads are still waiting for Redis.
  await store.close(true);
  return ExitCode.Ok;
}

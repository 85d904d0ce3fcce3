/**
 * `ecl serve`: an HTTP endpoint for Prometheus (`GET /metrics`), for health checks
 * (`GET /healthz`), and the dashboard (`GET /`) with its JSON API (`/api/…`, lib/dashboard/).
 *
 * - One read of Redis per request kind at a time ({@link SingleFlight}): a request that arrives
 *   while one is under way shares its result, so a burst of requests (or many Prometheus servers)
 *   costs Redis one read (and `/metrics` one Prometheus text), and a normal scrape is answered
 *   among them. The dashboard's `/api/…` requests share per distinct normalized query; at most
 *   {@link MAX_QUERY_READS} distinct ones with parameters run at once, one more is answered at once
 *   with 503 and `Retry-After: 1` (so made-up query strings cannot multiply Redis reads).
 * - A request waits at most {@link REQUEST_TIMEOUT_MS} for Redis: then `/metrics` answers with
 *   `ecl_redis_up 0` and `/healthz` with 503. The read goes on in the background until Redis
 *   answers or the connection drops; requests meanwhile share it.
 * - Idle connections and requests that send their headers slowly cost a file descriptor and a
 *   few KiB each (Deno raises the soft limit of open files to the hard one); a header block over
 *   ~400 KiB is refused with 400.
 * - Responses never hold passwords, file paths or Redis addresses: only group, interval and event
 *   names, counts, and the ID of the master holding the lease.
 *
 * {@link createApp} is the HTTP side alone (no socket, answered in process); {@link runServe}
 * listens and runs until a signal.
 * @module
 */
import { type EclConfig, loadConfig } from "../config.ts";
import { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from "../format/prometheus.ts";
import { RedisError } from "../errors.ts";
import { readSnapshot } from "../metrics.ts";
import { Store } from "../store.ts";
import { hostPort } from "../_message.ts";
import { SingleFlight } from "../_single_flight.ts";
import { waitForStop } from "./_signals.ts";
import { ExitCode } from "./_exit.ts";
import { printInfo, printWarning } from "./_io.ts";
import { type DashboardOptions, dashboardRoutes, type Route } from "../dashboard/routes.ts";
import { HistoryRing, historySource, startRecorder } from "../dashboard/history.ts";
import { selectIntervals } from "../metrics.ts";

/** Distinct dashboard queries (`/api/…` with their parameters) that may read at the same time. */
export const MAX_QUERY_READS = 4;
/** How long a request waits for Redis before it reports it down. */
export const REQUEST_TIMEOUT_MS = 5000;

const TEXT = "text/plain; charset=utf-8";
const ALLOWED_METHODS = "GET, HEAD";
/** Origin of the requests that {@link ServeApp.request} makes up. */
const LOCAL_ORIGIN = "http://localhost";

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

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "Content-Type": TEXT, "Cache-Control": "no-store", ...headers },
  });
}

/**
 * The HTTP side of `ecl serve` without a listening socket, shaped like a hono app: `fetch` is the
 * handler `Deno.serve` calls, `request` answers a path in process (what the tests use).
 */
export interface ServeApp {
  /** Answer one request. */
  fetch(request: Request): Promise<Response>;
  /** Answer a request for `path` (e.g. `/metrics`) on a made-up origin. */
  request(path: string, init?: RequestInit): Promise<Response>;
}

/**
 * The app of `ecl serve` for `config`, reading through `store`; the dashboard's history comes
 * from `dashboard` (by default Redis for groups that keep it there, else a {@link HistoryRing} of
 * what the app reads).
 */
export function createApp(
  config: EclConfig,
  store: Store,
  dashboard: DashboardOptions = dashboardHistory(store, new HistoryRing()),
): ServeApp {
  const fetch = createHandler(config, store, dashboard);
  return { fetch, request: (path, init) => fetch(new Request(new URL(path, LOCAL_ORIGIN), init)) };
}

/** The request handler of `ecl serve`. */
function createHandler(
  config: EclConfig,
  store: Store,
  dashboard: DashboardOptions,
): (request: Request) => Promise<Response> {
  const flights = new SingleFlight(REQUEST_TIMEOUT_MS, MAX_QUERY_READS);

  const routes: Record<string, Route> = {
    // The text is made once per read: requests that share a read share it too.
    "/metrics": () =>
      flights.run(
        "/metrics",
        async () => formatPrometheus(await readSnapshot(store, config, {}), Date.now() / 1000),
        undefined,
      ).then((body) =>
        new Response(body ?? formatPrometheus({ redisUp: false }, Date.now() / 1000), {
          headers: { "Content-Type": PROMETHEUS_CONTENT_TYPE, "Cache-Control": "no-store" },
        })
      ),
    "/healthz": () =>
      flights.run(
        "/healthz",
        () =>
          store.leaseHolder().then(() => true, (error) => {
            if (error instanceof RedisError) return false;
            throw error;
          }),
        false,
      ).then((up) => up ? text(200, "ok\n") : text(503, "Redis does not answer\n")),
    ...dashboardRoutes(config, store, flights, dashboard),
  };

  return (request) => {
    const url = new URL(request.url);
    const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
    if (route === undefined) return Promise.resolve(text(404, "not found\n"));
    if (request.method !== "GET" && request.method !== "HEAD") {
      return Promise.resolve(
        text(405, "method not allowed\n", { Allow: ALLOWED_METHODS }),
      );
    }
    return route(url);
  };
}

/**
 * The dashboard's history: read from Redis for groups whose layout keeps it (`periods`), else
 * `ring`, filled by every `last` slot read.
 */
function dashboardHistory(store: Store, ring: HistoryRing): DashboardOptions {
  return { history: historySource(store, ring), ring };
}

/** Serve until SIGINT or SIGTERM; returns the exit code. */
export async function runServe(options: ServeOptions): Promise<number> {
  const address = parseListen(options.listen);
  const config = await loadConfig(options.config);
  const store: Store = new Store(config.redis, {
    // Reads fail at once while disconnected instead of waiting for Redis.
    offlineQueue: false,
    onWarning: printWarning,
    onReconnect: printInfo,
    // Once, at the first connection: counts that a switch to `layout: periods` left unread.
    onConnect: () =>
      store.masterlessLayoutWarnings(config.groups.values()).then(
        (warnings) => warnings.forEach((warning) => printWarning(warning)),
        () => {}, // a failed probe (Redis gone again, an ACL without it) warns nothing
      ),
  });
  const controller = new AbortController();
  // Charts fill while serve runs: the finished period of every interval, read after each boundary.
  const ring = new HistoryRing();
  const stopRecorder = startRecorder(store, selectIntervals(config, {}), ring);
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: address.hostname,
      port: address.port,
      signal: controller.signal,
      onListen: ({ hostname, port }) => {
        printInfo(`serving http://${hostPort(hostname, port)}/metrics`);
        printInfo(`dashboard on http://${hostPort(hostname, port)}/`);
      },
      onError: (error) => {
        printWarning(`internal error: ${(error as Error)?.stack ?? String(error)}`);
        return text(500, "internal error\n");
      },
    }, createApp(config, store, dashboardHistory(store, ring)).fetch);
  } catch (error) {
    stopRecorder();
    await store.close(true);
    throw new RangeError(
      `Cannot listen on ${hostPort(address.hostname, address.port)}: ${(error as Error).message}`,
    );
  }
  const stop = waitForStop();
  // Connect now (in the background, retrying): an outage is reported before the first scrape.
  store.connect().catch(() => {});
  const signal = await stop.signal;
  printInfo(`serve stopping (${signal})`);
  controller.abort();
  stopRecorder();
  await server.finished;
  // Nothing to write: drop the connection even if reads are still waiting for Redis.
  await store.close(true);
  return ExitCode.Ok;
}

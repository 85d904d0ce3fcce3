/**
 * The dashboard's routes in `ecl serve`: the page (`/`, `/dashboard.js`, `/dashboard.css`) and the
 * JSON API (`/api/groups`, `/api/counts`, `/api/history`), each behind the same concurrency and
 * timeout limits as `/metrics`. Every response carries {@link SECURITY_HEADERS}.
 * @module
 */
import type { EclConfig } from "../config.ts";
import { NotFoundError, RedisError } from "../errors.ts";
import { readIntervals, selectIntervals } from "../metrics.ts";
import type { Store } from "../store.ts";
import {
  countsDocument,
  type EventSelection,
  groupsDocument,
  type HistoryDocument,
} from "./api.ts";
import { DASHBOARD_SCRIPT, UPLOT_CSS } from "./_assets.ts";
import type { HistoryRing, HistorySource } from "./history.ts";
import { PAGE_CSS, PAGE_HTML, SCRIPT_PATH, SECURITY_HEADERS, STYLE_PATH } from "./page.ts";

/** Most events per slot that `top` may ask for. */
export const MAX_TOP = 10_000;
/** Longest `filter`. */
export const MAX_FILTER_CHARS = 200;

/**
 * Runs `work` in one of the concurrent places of `ecl serve` with its timeout (giving `fallback`
 * then), or returns `undefined` when no place is free.
 */
export type Limiter = <T>(work: () => Promise<T>, fallback: T) => Promise<T> | undefined;

/** A route: the answer to a GET of its path, or `undefined` when no concurrent place is free. */
export type Route = (url: URL) => Promise<Response> | undefined;

/** What the dashboard routes need besides the config and the store. */
export interface DashboardOptions {
  /** Where each (group, interval)'s history comes from. */
  history: HistorySource;
  /** Where the `last` slots read for `/api/counts` are recorded, if anywhere. */
  ring?: HistoryRing | undefined;
}

const STYLE = UPLOT_CSS + PAGE_CSS;
const TIMED_OUT = Symbol("timed out");

function respond(status: number, body: string, type: string): Response {
  return new Response(body, { status, headers: { "Content-Type": type, ...SECURITY_HEADERS } });
}

function json(status: number, document: unknown): Response {
  return respond(status, JSON.stringify(document) + "\n", "application/json; charset=utf-8");
}

class BadRequest extends Error {}

/** `group`, `interval`, `top` and `filter` of a query. */
function parseQuery(url: URL): { group?: string; interval?: string } & EventSelection {
  const param = (name: string) => url.searchParams.get(name) ?? undefined;
  const topText = param("top");
  let top: number | undefined;
  if (topText !== undefined) {
    top = /^\d{1,6}$/.test(topText) ? Number(topText) : NaN;
    if (!(top >= 1 && top <= MAX_TOP)) {
      throw new BadRequest(
        `top must be a whole number from 1 to ${MAX_TOP}, got ${JSON.stringify(topText)}`,
      );
    }
  }
  const filter = param("filter");
  if (filter !== undefined && filter.length > MAX_FILTER_CHARS) {
    throw new BadRequest(`filter must be at most ${MAX_FILTER_CHARS} characters`);
  }
  return { group: param("group"), interval: param("interval"), top, filter };
}

/** What a 404 says: the group or interval asked for that is not configured. */
function notFound(url: URL): string {
  const { group, interval } = parseQuery(url);
  return group === undefined || interval === undefined
    ? `${group === undefined ? "Interval" : "Group"} ${
      JSON.stringify(group ?? interval)
    } is not configured`
    : `Group ${JSON.stringify(group)} with interval ${JSON.stringify(interval)} is not configured`;
}

/** The dashboard's routes by path. */
export function dashboardRoutes(
  config: EclConfig,
  store: Store,
  limited: Limiter,
  options: DashboardOptions,
): Record<string, Route> {
  const page = (body: string, type: string): Route => () =>
    limited(
      () => Promise.resolve(respond(200, body, type)),
      respond(503, "timed out\n", "text/plain; charset=utf-8"),
    );

  /** A JSON route: `answer` gives the document; bad queries are 400, unknown names 404. */
  const api = (answer: (url: URL) => Promise<Response>): Route => (url) =>
    limited<Response | typeof TIMED_OUT>(async () => {
      try {
        return await answer(url);
      } catch (error) {
        if (error instanceof BadRequest) return json(400, { error: error.message });
        // Not the finder's message: it names the config file, which responses never show.
        if (error instanceof NotFoundError) return json(404, { error: notFound(url) });
        if (error instanceof RedisError) {
          return json(503, { error: "Redis does not answer", redisUp: false });
        }
        throw error;
      }
    }, TIMED_OUT)?.then((response) =>
      response === TIMED_OUT
        ? json(503, { error: "Redis did not answer in time", redisUp: false })
        : response
    );

  return {
    "/": page(PAGE_HTML, "text/html; charset=utf-8"),
    [SCRIPT_PATH]: page(DASHBOARD_SCRIPT, "text/javascript; charset=utf-8"),
    [STYLE_PATH]: page(STYLE, "text/css; charset=utf-8"),
    "/api/groups": api(() => Promise.resolve(json(200, groupsDocument(config)))),
    "/api/counts": api(async (url) => {
      const query = parseQuery(url);
      const pairs = selectIntervals(config, query);
      let read;
      try {
        read = { redisUp: true, ...await readIntervals(store, pairs) };
      } catch (error) {
        if (!(error instanceof RedisError)) throw error;
        read = { redisUp: false };
      }
      for (const snapshot of read.intervals ?? []) {
        options.ring?.record(snapshot.last, snapshot.seconds);
      }
      return json(read.redisUp ? 200 : 503, countsDocument(read, Date.now() / 1000, query));
    }),
    "/api/history": api(async (url) => {
      const pairs = selectIntervals(config, parseQuery(url));
      const document: HistoryDocument = {
        intervals: await Promise.all(pairs.map(async ([group, interval]) => ({
          group: group.name,
          interval: interval.name,
          seconds: interval.seconds,
          ...await options.history(group, interval),
        }))),
      };
      return json(200, document);
    }),
  };
}

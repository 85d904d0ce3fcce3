/**
 * The dashboard's routes in `ecl serve`: the page (`/`, `/dashboard.js`, `/dashboard.css`) and the
 * JSON API (`/api/groups`, `/api/counts`, `/api/history`). The page and its assets are constant
 * and answered at once; each API request shares a run of its work with the requests of the same
 * normalized query under way ({@link SingleFlight}, with the timeout of `/metrics`), and queries
 * with parameters count among the distinct ones allowed at once. Every response carries
 * {@link SECURITY_HEADERS}.
 * @module
 */
import type { EclConfig } from "../config.ts";
import { NotFoundError, RedisError } from "../errors.ts";
import { readIntervals, selectIntervals } from "../metrics.ts";
import type { Store } from "../store.ts";
import type { SingleFlight } from "../_single_flight.ts";
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

/** A route: the answer to a GET of its path. */
export type Route = (url: URL) => Promise<Response>;

/** What the dashboard routes need besides the config and the store. */
export interface DashboardOptions {
  /** Where each (group, interval)'s history comes from. */
  history: HistorySource;
  /** Where the `last` slots read for `/api/counts` are recorded, if anywhere. */
  ring?: HistoryRing | undefined;
}

const STYLE = UPLOT_CSS + PAGE_CSS;
const TIMED_OUT = Symbol("timed out");

/** A response before it is one: what requests that share a read share (a body is read once). */
interface Answer {
  readonly status: number;
  readonly body: string;
  readonly type: string;
}

function respond({ status, body, type }: Answer, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "Content-Type": type, ...SECURITY_HEADERS, ...headers },
  });
}

function json(status: number, document: unknown): Answer {
  return {
    status,
    body: JSON.stringify(document) + "\n",
    type: "application/json; charset=utf-8",
  };
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

/**
 * The key under which requests share a read: the path and the parameters that change the answer,
 * normalized (their order and unknown parameters make no difference); `bare` when there are none.
 * @throws {BadRequest} for a bad `top` or `filter`
 */
function queryKey(url: URL): { key: string; bare: boolean } {
  const { group, interval, top, filter } = parseQuery(url);
  const parameters = [group, interval, top, filter];
  return {
    key: JSON.stringify([url.pathname, ...parameters.map((value) => value ?? null)]),
    bare: parameters.every((value) => value === undefined),
  };
}

/** The dashboard's routes by path; reads go through `flights`. */
export function dashboardRoutes(
  config: EclConfig,
  store: Store,
  flights: SingleFlight,
  options: DashboardOptions,
): Record<string, Route> {
  const page = (body: string, type: string): Route => () =>
    Promise.resolve(respond({ status: 200, body, type }));

  /**
   * A JSON route: `answer` gives the document; bad queries are 400, unknown names 404. Requests
   * with no parameter that matters share one key that is never turned away.
   */
  const api = (answer: (url: URL) => Promise<Answer>): Route => (url) => {
    let query;
    try {
      query = queryKey(url);
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      return Promise.resolve(respond(json(400, { error: error.message })));
    }
    const work = async (): Promise<Answer> => {
      try {
        return await answer(url);
      } catch (error) {
        // Not the finder's message: it names the config file, which responses never show.
        if (error instanceof NotFoundError) return json(404, { error: notFound(url) });
        if (error instanceof RedisError) {
          return json(503, { error: "Redis does not answer", redisUp: false });
        }
        throw error;
      }
    };
    const shared = query.bare
      ? flights.run<Answer | typeof TIMED_OUT>(query.key, work, TIMED_OUT)
      : flights.runCapped<Answer | typeof TIMED_OUT>(query.key, work, TIMED_OUT);
    if (shared === undefined) {
      return Promise.resolve(respond(
        json(503, { error: "Too many distinct requests at once, try again" }),
        { "Retry-After": "1" },
      ));
    }
    return shared.then((answer) =>
      respond(
        answer === TIMED_OUT
          ? json(503, { error: "Redis did not answer in time", redisUp: false })
          : answer,
      )
    );
  };

  return {
    "/": page(PAGE_HTML, "text/html; charset=utf-8"),
    [SCRIPT_PATH]: page(DASHBOARD_SCRIPT, "text/javascript; charset=utf-8"),
    [STYLE_PATH]: page(STYLE, "text/css; charset=utf-8"),
    "/api/groups": page(
      JSON.stringify(groupsDocument(config)) + "\n",
      "application/json; charset=utf-8",
    ),
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

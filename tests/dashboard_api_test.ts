/**
 * The dashboard routes of `ecl serve` in process (`app.request()`) against a real redis-server:
 * the `/api/…` documents, their errors, Redis down, reads shared per query, the security headers of
 * the page and its assets; and the bounded history ring.
 */
import assert from "node:assert/strict";
import { createApp, type ServeApp } from "../lib/commands/serve.ts";
import { loadConfig } from "../lib/config.ts";
import type { CountsDocument, HistoryDocument } from "../lib/dashboard/api.ts";
import { DASHBOARD_SCRIPT } from "../lib/dashboard/_assets.ts";
import {
  byCount,
  compareIds,
  HistoryRing,
  historySource,
  startRecorder,
  topCounts,
} from "../lib/dashboard/history.ts";
import { compareCodePoints } from "../lib/format/text.ts";
import { CONTENT_SECURITY_POLICY } from "../lib/dashboard/page.ts";
import { periodKey } from "../lib/layouts/periods_keys.ts";
import type { SlotCounts } from "../lib/reader.ts";
import { Store } from "../lib/store.ts";
import { writeConfig } from "./_process.ts";
import { waitFor, within } from "./_wait.ts";
import { freePort, type RedisServer, withRedis } from "./_redis.ts";

const HOSTILE = [`<img src=x onerror=alert(1)>`, `"><script>alert(2)</script>`, `a&b'c`];
const NOW = Math.floor(Date.now() / 1000);
const CUR_START = NOW - (NOW % 300);
const LAST_START = CUR_START - 300;

function configText(port: number): string {
  return `redis:
  host: 127.0.0.1
  port: ${port}
groups:
  requests:
    events: [req1, req2, req3]
    intervals: [5m, 1h]
  pages:
    auto_declare_events: true
    intervals: [5m]
`;
}

async function withApp(
  port: number,
  body: (app: ServeApp, ring: HistoryRing) => Promise<void>,
): Promise<void> {
  const file = await writeConfig(configText(port));
  const config = await loadConfig(file);
  const store = new Store(config.redis, { offlineQueue: false, reconnect: false });
  const ring = new HistoryRing();
  try {
    await body(createApp(config, store, { history: ring.source, ring }), ring);
  } finally {
    await within("end of store.close()", store.close(true));
    await Deno.remove(file);
  }
}

async function getJson<T>(app: ServeApp, path: string): Promise<{ status: number; body: T }> {
  const response = await app.request(path);
  assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(response.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  return { status: response.status, body: await response.json() };
}

async function seed(server: RedisServer): Promise<void> {
  const raw = await server.client();
  await raw.mSet({
    "requests:5m:last:@ts": String(LAST_START),
    "requests:5m:cur:@ts": String(CUR_START + 1),
    "requests:5m:last:req1": "54",
    "requests:5m:last:req2": "7",
    "requests:5m:cur:req2": "3",
    "pages:5m:last:@ts": String(LAST_START),
    "pages:5m:cur:@ts": String(CUR_START + 1),
    "pages:5m:last:/a": "5",
    "pages:5m:last:/b": "9",
    "pages:5m:last:/c": "9",
    "pages:5m:last:bad": "hello",
    [`pages:5m:last:${HOSTILE[0]}`]: "2",
    [`pages:5m:last:${HOSTILE[1]}`]: "1",
    [`pages:5m:last:${HOSTILE[2]}`]: "4",
  });
}

Deno.test("api: /api/groups lists the groups, their events and intervals", async () =>
  withApp(await freePort(), async (app) => {
    const { status, body } = await getJson(app, "/api/groups");
    assert.equal(status, 200);
    assert.deepEqual(body, {
      groups: [
        {
          name: "requests",
          events: ["req1", "req2", "req3"],
          autoDeclareEvents: false,
          intervals: [{ name: "5m", seconds: 300 }, { name: "1h", seconds: 3600 }],
        },
        {
          name: "pages",
          events: [],
          autoDeclareEvents: true,
          intervals: [{ name: "5m", seconds: 300 }],
        },
      ],
    });
  }));

Deno.test("api: /api/counts gives both slots sorted by count, predeclared zeros, totals", () =>
  withRedis(async (server) => {
    await seed(server);
    await withApp(server.port, async (app) => {
      const { status, body } = await getJson<CountsDocument>(
        app,
        "/api/counts?group=requests&interval=5m",
      );
      assert.equal(status, 200);
      assert.ok(Math.abs(body.now - Date.now() / 1000) < 60);
      assert.deepEqual({ ...body, now: 0 }, {
        now: 0,
        redisUp: true,
        leaseHolder: null,
        intervals: [{
          group: "requests",
          interval: "5m",
          seconds: 300,
          stale: false,
          last: {
            start: LAST_START,
            end: CUR_START,
            complete: true,
            total: 61,
            distinct: 2,
            matched: 3,
            events: [
              { event: "req1", count: 54 },
              { event: "req2", count: 7 },
              { event: "req3", count: 0 },
            ],
            invalid: [],
          },
          current: {
            start: CUR_START,
            end: CUR_START + 300,
            total: 3,
            distinct: 1,
            matched: 3,
            events: [
              { event: "req2", count: 3 },
              { event: "req1", count: 0 },
              { event: "req3", count: 0 },
            ],
            invalid: [],
          },
        }],
      });
      // Every (group, interval) in configured order when no group is named.
      const all = await getJson<CountsDocument>(app, "/api/counts");
      assert.deepEqual(all.body.intervals.map((i) => `${i.group} ${i.interval}`), [
        "requests 5m",
        "requests 1h",
        "pages 5m",
      ]);
    });
  }));

Deno.test("api: top and filter; hostile IDs come back as the same strings; invalid values", () =>
  withRedis(async (server) => {
    await seed(server);
    await withApp(server.port, async (app) => {
      const top = await getJson<CountsDocument>(app, "/api/counts?group=pages&top=3");
      const last = top.body.intervals[0].last;
      assert.deepEqual(last.events, [
        { event: "/b", count: 9 },
        { event: "/c", count: 9 },
        { event: "/a", count: 5 },
      ]);
      assert.deepEqual([last.total, last.distinct, last.matched], [30, 6, 6]);
      assert.deepEqual(last.invalid, [{ event: "bad", value: "hello" }]);

      const hostile = await getJson<CountsDocument>(
        app,
        `/api/counts?group=pages&filter=${encodeURIComponent("<")}`,
      );
      assert.deepEqual(
        hostile.body.intervals[0].last.events,
        [
          { event: HOSTILE[1], count: 1 },
          { event: HOSTILE[0], count: 2 },
        ].sort((a, b) => b.count - a.count),
      );
      const upper = await getJson<CountsDocument>(app, "/api/counts?group=pages&filter=IMG");
      assert.deepEqual(upper.body.intervals[0].last.events, [{ event: HOSTILE[0], count: 2 }]);
      assert.equal(upper.body.intervals[0].last.matched, 1);
      assert.equal(upper.body.intervals[0].last.total, 30, "total counts every event");
    });
  }));

Deno.test("api: bad queries are 400, unknown names 404, both JSON with an error", async () =>
  withApp(await freePort(), async (app) => {
    for (const query of ["top=0", "top=10001", "top=x", `filter=${"x".repeat(201)}`]) {
      const { status, body } = await getJson<{ error: string }>(app, `/api/counts?${query}`);
      assert.deepEqual([query, status], [query, 400]);
      assert.match(body.error, /^(top|filter) must be/);
    }
    for (
      const [path, error] of [
        ["/api/counts?group=nope", `Group "nope" is not configured`],
        ["/api/counts?interval=1d", `Interval "1d" is not configured`],
        [
          "/api/history?group=requests&interval=1d",
          `Group "requests" with interval "1d" is not configured`,
        ],
      ]
    ) {
      const { status, body } = await getJson<{ error: string }>(app, path);
      // The error names what was asked for, never the config file.
      assert.deepEqual([path, status, body], [path, 404, { error }]);
    }
  }));

Deno.test("api: Redis down is a 503 with redisUp false; groups and history still answer", async () =>
  withApp(await freePort(), async (app) => {
    const { status, body } = await getJson<CountsDocument>(app, "/api/counts");
    assert.equal(status, 503);
    assert.deepEqual({ ...body, now: 0 }, {
      now: 0,
      redisUp: false,
      leaseHolder: null,
      intervals: [],
    });
    assert.equal((await app.request("/api/groups")).status, 200);
    assert.equal((await app.request("/api/history")).status, 200);
  }));

Deno.test("api: /api/history has the finished periods read, oldest first", () =>
  withRedis(async (server) => {
    await seed(server);
    await withApp(server.port, async (app) => {
      const empty = await getJson<HistoryDocument>(app, "/api/history?group=requests&interval=5m");
      assert.deepEqual(empty.body, {
        intervals: [{
          group: "requests",
          interval: "5m",
          seconds: 300,
          origin: "memory",
          periods: [],
        }],
      });
      await app.request("/api/counts");
      // The next period, as a master's rotation leaves it.
      const raw = await server.client();
      await raw.mSet({
        "requests:5m:last:@ts": String(CUR_START),
        "requests:5m:cur:@ts": String(CUR_START + 301),
        "requests:5m:last:req1": "1",
        "requests:5m:last:req2": "2",
      });
      await app.request("/api/counts?group=requests");
      await app.request("/api/counts?group=requests"); // read twice: kept once
      const { status, body } = await getJson<HistoryDocument>(app, "/api/history?group=requests");
      assert.equal(status, 200);
      assert.deepEqual(body.intervals.map((i) => [i.interval, i.periods]), [
        ["5m", [
          {
            start: LAST_START,
            end: CUR_START,
            total: 61,
            distinct: 2,
            events: [{ event: "req1", count: 54 }, { event: "req2", count: 7 }],
          },
          {
            start: CUR_START,
            end: CUR_START + 300,
            total: 3,
            distinct: 2,
            events: [{ event: "req2", count: 2 }, { event: "req1", count: 1 }],
          },
        ]],
        ["1h", []], // no master wrote its timestamps: no complete period
      ]);
    });
  }));

/** MGETs that Redis ran, by its `INFO commandstats`. */
function mgetCalls(stats: string): number {
  return Number(/^cmdstat_mget:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}

Deno.test("api: while Redis is frozen, requests share a read per query; distinct queries are capped", () =>
  withRedis(async (server) => {
    await withApp(server.port, async (app) => {
      const raw = await server.client();
      await raw.configResetStat();
      assert.equal((await app.request("/api/counts")).status, 200); // connected
      const perRead = mgetCalls(await raw.info("commandstats"));
      assert.ok(perRead > 0);
      await raw.configResetStat();
      server.pause();
      let waiting: Promise<Response>[] = [];
      try {
        // Twenty requests of two queries (parameters in any order, unknown ones ignored) and
        // three more distinct queries: five reads, the most that run at once (one bare, four of
        // the capped queries with parameters).
        waiting = [
          ...Array.from({ length: 10 }, () => app.request("/api/counts")),
          ...Array.from(
            { length: 10 },
            (_, i) =>
              app.request(
                i % 2 === 0
                  ? `/api/counts?top=5&filter=req`
                  : `/api/counts?filter=req&x=${i}&top=5`,
              ),
          ),
          ...[1, 2, 3].map((top) => app.request(`/api/counts?top=${top}`)),
        ];
        // One more distinct query is turned away at once; the page, its assets and
        // /api/groups need no read and are answered at once.
        for (const path of ["/api/counts?top=4", "/api/history?interval=5m"]) {
          const extra = await app.request(path);
          assert.deepEqual([path, extra.status], [path, 503]);
          assert.equal(extra.headers.get("retry-after"), "1");
          assert.equal(extra.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
          assert.deepEqual(await extra.json(), {
            error: "Too many distinct requests at once, try again",
          });
        }
        for (const path of ["/", "/dashboard.js", "/dashboard.css", "/api/groups"]) {
          const page = await app.request(path);
          assert.deepEqual([path, page.status], [path, 200]);
          await page.body?.cancel();
        }
        // After the time-out (5 s), the waiting ones say Redis did not answer.
        for (const response of await Promise.all(waiting)) {
          assert.equal(response.status, 503);
          assert.deepEqual(await response.json(), {
            error: "Redis did not answer in time",
            redisUp: false,
          });
        }
      } finally {
        server.resume();
      }
      // Redis was sent five reads, not twenty-three.
      let calls = 0;
      await waitFor("the reads sent to the frozen server, run", async () => {
        calls = mgetCalls(await raw.info("commandstats"));
        return calls >= 5 * perRead;
      }, { timeoutMs: 10_000, everyMs: 50 });
      assert.equal(calls, 5 * perRead);
      // Then the places are free again.
      await waitFor("a fifth distinct query answered", async () => {
        const response = await app.request("/api/counts?top=4");
        await response.body?.cancel();
        return response.status === 200;
      }, { timeoutMs: 10_000, everyMs: 100 });
    });
  }));

Deno.test("page: read-only shell, its script and style from this server, CSP without inline code", async () =>
  withApp(await freePort(), async (app) => {
    const page = await app.request("/");
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    const csp = page.headers.get("content-security-policy")!;
    assert.match(csp, /(^|; )default-src 'self'(;|$)/);
    assert.match(csp, /(^|; )script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    // Scripts only by src, from this server; no inline handlers; no other host.
    assert.deepEqual(html.match(/<script[^>]*>/g), [`<script src="/dashboard.js" defer>`]);
    assert.doesNotMatch(html, /<script[^>]*>[^<]/);
    assert.doesNotMatch(html, /\son[a-z]+=/i);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
    assert.doesNotMatch(html, /<form|method=/i);

    const script = await app.request("/dashboard.js");
    assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(await script.text(), DASHBOARD_SCRIPT);
    const style = await app.request("/dashboard.css");
    assert.equal(style.headers.get("content-type"), "text/css; charset=utf-8");
    const css = await style.text();
    assert.match(css, /\.uplot/);
    assert.doesNotMatch(css, /url\(|@import/);
    for (const method of ["POST", "PUT", "DELETE"]) {
      assert.equal((await app.request("/api/counts", { method })).status, 405);
    }
  }));

Deno.test("page: the script never writes markup", () => {
  // Data reaches the page through textContent and DOM attributes only.
  for (const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("]) {
    assert.ok(!DASHBOARD_SCRIPT.includes(sink), sink);
  }
});

function lastSlot(group: string, start: number, counts: Record<string, number>): SlotCounts {
  return {
    group,
    interval: "1s",
    slot: "last",
    start,
    end: start + 1,
    counts: new Map(Object.entries(counts)),
    invalid: new Map(),
  };
}

Deno.test("history ring: bounded periods and events, in order, incomplete periods left out", () => {
  const ring = new HistoryRing(3, 2);
  for (const start of [10, 12, 11, 13, 14]) {
    ring.record(lastSlot("g", start, { a: start, b: 1, c: 2 }), 1);
  }
  ring.record({ ...lastSlot("g", 20, { a: 1 }), end: 22 }, 1); // spans two intervals
  ring.record({ ...lastSlot("g", 21, { a: 1 }), start: undefined }, 1); // no master yet
  const periods = ring.periods("g", "1s");
  assert.deepEqual(periods.map((p) => p.start), [12, 13, 14]);
  assert.deepEqual(periods[2], {
    start: 14,
    end: 15,
    total: 17,
    distinct: 3,
    events: [{ event: "a", count: 14 }, { event: "c", count: 2 }],
  });
  assert.deepEqual(ring.periods("g", "5m"), []);
  assert.deepEqual(ring.periods("other", "1s"), []);
});

Deno.test("topCounts: the first N in count order, ties by event ID, as a full sort gives", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const entries = Array.from({ length: 2000 }, (_, i) => ({
    event: `e${Math.floor(random() * 500)}-${i % 3}`,
    count: Math.floor(random() * 40),
  }));
  for (const limit of [1, 5, 50, 1999, 2000, 5000]) {
    assert.deepEqual(topCounts(entries, limit), [...entries].sort(byCount).slice(0, limit));
  }
  assert.deepEqual(topCounts([], 3), []);
});

Deno.test("compareIds orders by code point, as compareCodePoints does", () => {
  const ids = [
    "",
    "a",
    "ab",
    "b",
    "\uffff",
    "\ue000",
    "\u{10000}",
    "\u{1f600}",
    "\ud7ff",
    "a\u{1f600}",
    "a\uffff",
  ];
  for (const a of ids) {
    for (const b of ids) {
      assert.equal(Math.sign(compareIds(a, b)), Math.sign(compareCodePoints(a, b)), `${a} ${b}`);
    }
  }
});

Deno.test("recorder: reads each finished period after its boundary, without any request", () =>
  withRedis(async (server) => {
    const file = await writeConfig(
      `redis:\n  host: 127.0.0.1\n  port: ${server.port}\ngroups:\n  ticks:\n    events: [a]\n    intervals: [1s]\n`,
    );
    const config = await loadConfig(file);
    const store = new Store(config.redis, { offlineQueue: false });
    const ring = new HistoryRing();
    const group = config.groups.get("ticks")!;
    const stop = startRecorder(store, [[group, group.intervals[0]]], ring);
    try {
      // What a master leaves after rotating at `now`: the second before it in last.
      const now = Math.floor(Date.now() / 1000);
      const raw = await server.client();
      await raw.mSet({
        "ticks:1s:last:@ts": String(now - 1),
        "ticks:1s:cur:@ts": String(now),
        "ticks:1s:last:a": "4",
      });
      await waitFor(
        "a period in the ring",
        () => Promise.resolve(ring.periods("ticks", "1s").length > 0),
        {
          timeoutMs: 10_000,
          everyMs: 50,
        },
      );
      assert.deepEqual(ring.periods("ticks", "1s"), [
        { start: now - 1, end: now, total: 4, distinct: 1, events: [{ event: "a", count: 4 }] },
      ]);
    } finally {
      stop();
      await within("end of store.close()", store.close(true));
      await Deno.remove(file);
    }
  }));

Deno.test("api: /api/history of a periods group reads its kept periods from Redis (origin redis), python groups stay in memory; Redis down is a 503", () =>
  withRedis(async (server) => {
    const file = await writeConfig(
      `redis:\n  host: 127.0.0.1\n  port: ${server.port}\ngroups:\n` +
        `  hist:\n    layout: periods\n    history: 3\n    events: [a]\n    auto_declare_events: true\n    intervals: [1m]\n` +
        `  requests:\n    events: [req1]\n    intervals: [5m]\n`,
    );
    const config = await loadConfig(file);
    const store = new Store(config.redis, { offlineQueue: false, reconnect: false });
    const ring = new HistoryRing();
    const raw = await server.client();
    try {
      // Periods on Redis's clock, far enough from the next boundary for the test's reads.
      const redisSeconds = async () => Number((await raw.sendCommand(["TIME"]) as string[])[0]);
      if ((await redisSeconds()) % 60 > 54) {
        await waitFor(
          "the next minute on Redis's clock",
          async () => (await redisSeconds()) % 60 < 54,
          { timeoutMs: 10_000, everyMs: 200 },
        );
      }
      const current = Math.floor((await redisSeconds()) / 60) * 60;
      const shard = (start: number) => periodKey("hist", "1m", start, 0);
      await raw.hSet(shard(current - 120), { a: "1" });
      await raw.hSet(shard(current - 60), { a: "5", b: "9", [HOSTILE[0]]: "2" });
      await raw.hSet(shard(current), { a: "100" }); // the current period: not history yet
      const app = createApp(config, store, { history: historySource(store, ring), ring });
      const { status, body } = await getJson<HistoryDocument>(app, "/api/history");
      assert.equal(status, 200);
      assert.deepEqual(body.intervals, [
        {
          group: "hist",
          interval: "1m",
          seconds: 60,
          origin: "redis",
          periods: [
            { start: current - 180, end: current - 120, total: 0, distinct: 0, events: [] },
            {
              start: current - 120,
              end: current - 60,
              total: 1,
              distinct: 1,
              events: [{ event: "a", count: 1 }],
            },
            {
              start: current - 60,
              end: current,
              total: 16,
              distinct: 3,
              events: [
                { event: "b", count: 9 },
                { event: "a", count: 5 },
                { event: HOSTILE[0], count: 2 },
              ],
            },
          ],
        },
        { group: "requests", interval: "5m", seconds: 300, origin: "memory", periods: [] },
      ]);
      await server.kill();
      const down = await getJson<{ redisUp: boolean }>(app, "/api/history?group=hist");
      assert.equal(down.status, 503);
      assert.equal(down.body.redisUp, false);
      const python = await getJson<HistoryDocument>(app, "/api/history?group=requests");
      assert.equal(python.status, 200, "a python group's history is in memory");
    } finally {
      await within("end of store.close()", store.close(true));
      await Deno.remove(file);
    }
  }));

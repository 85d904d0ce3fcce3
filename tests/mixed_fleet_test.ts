/**
 * A mixed fleet: ecl masters and the original Python master rotating the same Redis in turn (a
 * rollback, or an upgrade). The Python master cannot run here; `pythonRotate` replays its Redis
 * operations exactly as /work/shared/reference/SEMANTICS.md gives them.
 */
import assert from "node:assert/strict";
import { parseGroups } from "../lib/config.ts";
import { parseRedis } from "../lib/redis_config.ts";
import { FlushStatus } from "../lib/scripts.ts";
import { Store } from "../lib/store.ts";
import { runCli, writeConfig } from "./_process.ts";
import { type RawClient, type RedisServer, withRedis } from "./_redis.ts";
import { within } from "./_wait.ts";

/** Start of the current minute: the period that the last rotation opened. */
const C = Math.floor(Date.now() / 60_000) * 60;
const EVENTS = ["req1", "req2"];

/**
 * One rotation of the Python `ecl_master` at `nowSeconds`, in one MULTI/EXEC: dynamic IDs only in
 * `last` deleted and dynamic `cur` keys renamed to `last` (auto-declaring groups); for every
 * predeclared ID `SETNX cur 0`, `RENAME cur last`, `SET cur 0`; then `SET cur:@ts int(now)`.
 * It never reads or writes `last:@ts`.
 */
async function pythonRotate(
  raw: RawClient,
  group: string,
  interval: string,
  events: string[],
  autoDeclare: boolean,
  nowSeconds: number,
): Promise<void> {
  const prefix = `${group}:${interval}:`;
  const dynamic = (slot: string) => async () => {
    const keys: string[] = [];
    for await (const batch of raw.scanIterator({ MATCH: `${prefix}[^:]*:[^@]*` })) {
      for (const key of batch) {
        const event = key.slice(key.indexOf(":", prefix.length) + 1);
        if (key.startsWith(prefix + slot + ":") && !events.includes(event)) keys.push(event);
      }
    }
    return keys;
  };
  const dynamicCur = autoDeclare ? await dynamic("cur")() : [];
  const dynamicLast = autoDeclare ? await dynamic("last")() : [];
  const multi = raw.multi();
  for (const event of dynamicLast) {
    if (!dynamicCur.includes(event)) multi.del(`${prefix}last:${event}`);
  }
  for (const event of dynamicCur) multi.rename(`${prefix}cur:${event}`, `${prefix}last:${event}`);
  for (const event of events) {
    multi.setNX(`${prefix}cur:${event}`, "0");
    multi.rename(`${prefix}cur:${event}`, `${prefix}last:${event}`);
    multi.set(`${prefix}cur:${event}`, "0");
  }
  multi.set(`${prefix}cur:@ts`, String(Math.floor(nowSeconds)));
  await multi.exec();
}

function setup(server: RedisServer) {
  const config = parseGroups({ web: { events: EVENTS, intervals: ["1m"] } });
  const group = config.get("web")!;
  return { group, interval: group.intervals[0], store: new Store(parseRedis(server.spec)) };
}

function configFor(server: RedisServer): Promise<string> {
  return writeConfig(`redis:
  host: 127.0.0.1
  port: ${server.port}
groups:
  web:
    events: [${EVENTS.join(", ")}]
    intervals: [1m]
`);
}

/** `ecl read` of web:1m in text, JSON and Prometheus. */
async function readAll(config: string) {
  const text = await runCli(["read", config, "-g", "web"]);
  const json = await runCli(["read", config, "-g", "web", "-f", "json"]);
  const prometheus = await runCli(["read", config, "-f", "prometheus"]);
  for (const result of [text, json, prometheus]) assert.equal(result.code, 0, result.stderr);
  assert.equal(json.stderr, "");
  assert.equal(prometheus.stderr, "");
  const complete = prometheus.stdout.split("\n").filter((line) =>
    line.startsWith("ecl_last_interval_complete{")
  );
  return { text, json: JSON.parse(json.stdout), complete };
}

Deno.test("mixed fleet: after an ecl master, a Python master's rotations leave the span of last unknown, without a warning", () =>
  withRedis(async (server) => {
    const { group, interval, store } = setup(server);
    const config = await configFor(server);
    const raw = await server.client();
    try {
      // The ecl master rotates twice, then the Python master takes over on time (its timer fires
      // a second or two after each boundary).
      await store.rotate(group, interval, C - 180);
      await raw.incrBy("web:1m:cur:req1", 4);
      await store.rotate(group, interval, C - 120);
      assert.equal(await raw.get("web:1m:last:@ts"), `${C - 180}/${C - 120}`);
      await raw.incrBy("web:1m:cur:req1", 5);
      await pythonRotate(raw, "web", "1m", EVENTS, false, C - 59);
      await raw.incrBy("web:1m:cur:req1", 6);
      await raw.incrBy("web:1m:cur:req2", 1);
      await pythonRotate(raw, "web", "1m", EVENTS, false, C + 1);
      // The ecl master's last:@ts is still there, left by a rotation two rotations ago.
      assert.equal(await raw.get("web:1m:last:@ts"), `${C - 180}/${C - 120}`);

      const { text, json, complete } = await readAll(config);
      assert.equal(text.stdout, "req1:6\nreq2:1\n");
      assert.equal(text.stderr, "");
      assert.deepEqual(json, {
        group: "web",
        interval: "1m",
        stale: false,
        last: { start: null, end: C, complete: null, counts: { req1: 6, req2: 1 } },
      });
      assert.deepEqual(complete, []);

      // A late batch of the period before last is discarded, not added to "last" (whose start
      // the stale last:@ts would have put 3 intervals back); one of the last period goes to last.
      const batch = (period: number, seq: number) => ({
        group,
        interval,
        period,
        counts: new Map([["req2", 10]]),
        nowSeconds: C + 2,
        graceSeconds: 2,
        writer: "w1",
        seq,
      });
      assert.equal(
        (await within("end of store.flush()", store.flush(batch(C - 120, 1)))).status,
        FlushStatus.Discarded,
      );
      assert.equal(
        (await within("end of store.flush()", store.flush(batch(C - 60, 2)))).status,
        FlushStatus.Last,
      );
      assert.equal(await raw.get("web:1m:last:req2"), "11");

      // The ecl master comes back and rotates the next boundary: the span is known again.
      await store.rotate(group, interval, C + 60);
      assert.equal(await raw.get("web:1m:last:@ts"), `${C}/${C + 60}`);
    } finally {
      await within("end of store.close()", store.close());
      await Deno.remove(config);
    }
  }));

Deno.test("mixed fleet: after a Python master, an ecl master's rotation knows the span; a real gap still warns", () =>
  withRedis(async (server) => {
    const { group, interval, store } = setup(server);
    const config = await configFor(server);
    const raw = await server.client();
    try {
      await pythonRotate(raw, "web", "1m", EVENTS, false, C - 59);
      await raw.incrBy("web:1m:cur:req1", 3);
      await store.rotate(group, interval, C);
      let read = await readAll(config);
      assert.equal(read.text.stderr, "");
      assert.deepEqual(read.json.last, {
        start: C - 60,
        end: C,
        complete: true,
        counts: { req1: 3, req2: 0 },
      });
      assert.deepEqual(read.complete, ['ecl_last_interval_complete{group="web",interval="1m"} 1']);

      // The ecl master was down over two boundaries (C-120, C-60) and rotated once at C.
      await raw.flushAll();
      await store.rotate(group, interval, C - 180);
      await raw.incrBy("web:1m:cur:req1", 7);
      await store.rotate(group, interval, C);
      read = await readAll(config);
      const at = (seconds: number) => new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
      assert.equal(
        read.text.stderr,
        `ecl: warning: web:1m: "last" spans 3 intervals (${at(C - 180)} to ${
          at(C)
        }): the master missed boundaries\n`,
      );
      assert.equal(read.json.last.complete, false);
      assert.equal(read.json.last.start, C - 180);
      assert.deepEqual(read.complete, ['ecl_last_interval_complete{group="web",interval="1m"} 0']);
    } finally {
      await within("end of store.close()", store.close());
      await Deno.remove(config);
    }
  }));

Deno.test("mixed fleet: a last:@ts written by an older ecl (a bare start) is still read as today", () =>
  withRedis(async (server) => {
    const config = await configFor(server);
    const raw = await server.client();
    try {
      await raw.mSet({ "web:1m:last:@ts": String(C - 120), "web:1m:cur:@ts": String(C) });
      const { json, complete } = await readAll(config);
      assert.equal(json.last.start, C - 120);
      assert.equal(json.last.complete, false);
      assert.deepEqual(complete, ['ecl_last_interval_complete{group="web",interval="1m"} 0']);
    } finally {
      await Deno.remove(config);
    }
  }));

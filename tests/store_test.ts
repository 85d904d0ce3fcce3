/**
 * The server-side steps, driven with explicit boundaries and periods (no waiting): rotation and
 * flush semantics, idempotence, and the key layout shared with the Python implementation.
 */
import assert from "node:assert/strict";
import { parseGroups } from "../lib/config.ts";
import { parseRedis } from "../lib/redis_config.ts";
import { RESEND_WINDOW_MS, WRITER_RECORD_TTL_MS } from "../lib/layouts/layout.ts";
import { FlushStatus } from "../lib/scripts.ts";
import { readSlot } from "../lib/reader.ts";
import { Store } from "../lib/store.ts";
import { type RedisServer, withRedis } from "./_redis.ts";
import { within } from "./_wait.ts";

const B = 1_795_000_200; // a multiple of 60 and of 5

function setup(server: RedisServer, groups: Record<string, unknown>) {
  const config = parseGroups(groups);
  const store = new Store(parseRedis(server.spec));
  return { config, store };
}

async function snapshot(server: RedisServer): Promise<Record<string, string | null>> {
  const raw = await server.client();
  const keys = (await raw.keys("*")).sort();
  const values = keys.length === 0 ? [] : await raw.mGet(keys);
  return Object.fromEntries(keys.map((key, index) => [key, values[index]]));
}

Deno.test("Store.rotate() moves predeclared counts to last and resets cur to 0", () =>
  withRedis(async (server) => {
    const { config, store } = setup(server, { req: { events: ["a", "b"], intervals: ["1m"] } });
    const group = config.get("req")!;
    const [interval] = group.intervals;
    const raw = await server.client();
    await raw.set("req:1m:cur:a", "5");
    assert.equal(await store.rotate(group, interval, B), 2);
    assert.deepEqual(await snapshot(server), {
      "req:1m:cur:@ts": String(B),
      "req:1m:cur:a": "0",
      "req:1m:cur:b": "0",
      "req:1m:last:a": "5",
      "req:1m:last:b": "0",
    });
    await raw.incrBy("req:1m:cur:b", 2);
    assert.equal(await store.rotate(group, interval, B + 60), 2);
    assert.deepEqual(await snapshot(server), {
      "req:1m:cur:@ts": String(B + 60),
      "req:1m:last:@ts": `${B}/${B + 60}`,
      "req:1m:cur:a": "0",
      "req:1m:cur:b": "0",
      "req:1m:last:a": "0",
      "req:1m:last:b": "2",
    });
    await within("end of store.close()", store.close());
  }));

Deno.test("Store.rotate() is idempotent: a boundary rotated once is never rotated again", () =>
  withRedis(async (server) => {
    const { config, store } = setup(server, {
      dyn: { events: ["a"], intervals: ["1m"], auto_declare_events: true },
    });
    const group = config.get("dyn")!;
    const [interval] = group.intervals;
    const raw = await server.client();
    await store.rotate(group, interval, B);
    await raw.incrBy("dyn:1m:cur:a", 3);
    await raw.incrBy("dyn:1m:cur:x", 4);
    assert.equal(await store.rotate(group, interval, B + 60), 2);
    const after = await snapshot(server);
    assert.equal(await store.rotate(group, interval, B + 60), -1);
    assert.equal(await store.rotate(group, interval, B), -1);
    assert.deepEqual(await snapshot(server), after);
    assert.equal(after["dyn:1m:last:a"], "3");
    assert.equal(after["dyn:1m:last:x"], "4");
    await within("end of store.close()", store.close());
  }));

Deno.test("Store.rotate() keeps a dynamic event for one interval after its last count", () =>
  withRedis(async (server) => {
    const { config, store } = setup(server, {
      dyn: { events: [], intervals: ["1m"], auto_declare_events: true },
    });
    const group = config.get("dyn")!;
    const [interval] = group.intervals;
    const raw = await server.client();
    await store.rotate(group, interval, B);
    await raw.incrBy("dyn:1m:cur:x", 4);
    await store.rotate(group, interval, B + 60);
    assert.equal(await raw.get("dyn:1m:cur:x"), null);
    assert.equal(await raw.get("dyn:1m:last:x"), "4");
    await store.rotate(group, interval, B + 120);
    assert.equal(await raw.get("dyn:1m:last:x"), null);
    assert.deepEqual(Object.keys(await snapshot(server)), ["dyn:1m:cur:@ts", "dyn:1m:last:@ts"]);
    await within("end of store.close()", store.close());
  }));

Deno.test("Store.rotate() after downtime rotates once and records the longer span", () =>
  withRedis(async (server) => {
    const { config, store } = setup(server, { g: { events: ["a"], intervals: ["1m"] } });
    const group = config.get("g")!;
    const [interval] = group.intervals;
    const raw = await server.client();
    await store.rotate(group, interval, B);
    await raw.incrBy("g:1m:cur:a", 7);
    // The master was down for boundaries B+60 and B+120.
    assert.equal(await store.rotate(group, interval, B + 180), 1);
    assert.equal(await raw.get("g:1m:last:@ts"), `${B}/${B + 180}`);
    assert.equal(await raw.get("g:1m:cur:@ts"), String(B + 180));
    assert.equal(await raw.get("g:1m:last:a"), "7");
    await within("end of store.close()", store.close());
  }));

Deno.test("Store.rotate() escapes the group name in its key scan", () =>
  withRedis(async (server) => {
    const { config, store } = setup(server, {
      "g?": { intervals: ["1m"], auto_declare_events: true },
      "gx": { intervals: ["1m"], auto_declare_events: true },
    });
    const raw = await server.client();
    await raw.incrBy("gx:1m:cur:other", 1);
    await raw.incrBy("g?:1m:cur:mine", 2);
    assert.equal(await store.rotate(config.get("g?")!, config.get("g?")!.intervals[0], B), 1);
    assert.equal(await raw.get("gx:1m:cur:other"), "1");
    assert.equal(await raw.get("g?:1m:last:mine"), "2");
    await within("end of store.close()", store.close());
  }));

Deno.test("Store.flush() sends each period's counts where they belong", async (t) => {
  await withRedis(async (server) => {
    const { config, store } = setup(server, { g: { events: ["a"], intervals: ["1m"] } });
    const group = config.get("g")!;
    const [interval] = group.intervals;
    const raw = await server.client();
    const counts = new Map([["a", 2], ["b:c", 1]]);
    let seq = 0;
    const flush = async (period: number, now = period + 1) =>
      (await within(
        "end of store.flush()",
        store.flush({
          group: config.get("g")!,
          interval,
          period,
          counts,
          nowSeconds: now,
          graceSeconds: 2,
          writer: "w1",
          seq: ++seq,
        }),
      )).status;

    await t.step("no master yet: cur", async () => {
      assert.equal(await flush(B - 60), FlushStatus.Current);
      assert.equal(await raw.get("g:1m:cur:a"), "2");
      assert.equal(await raw.get("g:1m:cur:b:c"), "1");
    });
    await store.rotate(group, interval, B);
    await t.step("current period: cur", async () => {
      assert.equal(await flush(B), FlushStatus.Current);
      assert.equal(await raw.get("g:1m:cur:a"), "2");
    });
    await t.step("period just rotated: last", async () => {
      assert.equal(await flush(B - 60, B + 5), FlushStatus.Last);
      assert.equal(await raw.get("g:1m:last:a"), "4");
    });
    await t.step("next period, master not there yet: deferred, nothing written", async () => {
      assert.equal(await flush(B + 60, B + 60.5), FlushStatus.Deferred);
      assert.equal(await raw.get("g:1m:cur:a"), "2");
    });
    await t.step("next period after the grace: cur", async () => {
      assert.equal(await flush(B + 60, B + 62), FlushStatus.Current);
      assert.equal(await raw.get("g:1m:cur:a"), "4");
    });
    await t.step("period rotated out of last already: discarded, nothing written", async () => {
      assert.equal(await flush(B - 120, B + 5), FlushStatus.Discarded);
      assert.equal(await raw.get("g:1m:last:a"), "4");
    });
    await within("end of store.close()", store.close());
  });
});

Deno.test("Store.flush() compares periods, not raw timestamps, with a late Python master", () =>
  withRedis(async (server) => {
    const { config, store } = setup(server, { g: { events: ["a"], intervals: ["1m"] } });
    const [interval] = config.get("g")!.intervals;
    const raw = await server.client();
    // The Python master writes int(time.time()) when its timer fires, here 2 s late.
    await raw.set("g:1m:cur:@ts", String(B + 2));
    const result = await within(
      "end of store.flush()",
      store.flush({
        group: config.get("g")!,
        interval,
        period: B,
        counts: new Map([["a", 1]]),
        nowSeconds: B + 1,
        graceSeconds: 2,
        writer: "w1",
        seq: 1,
      }),
    );
    assert.deepEqual(result, { status: FlushStatus.Current, rejected: [] });
    assert.equal(await raw.get("g:1m:cur:a"), "1");
    await within("end of store.close()", store.close());
  }));

Deno.test("Python-compatible layout: a Python logger's keys are rotated and read by ecl", () =>
  withRedis(async (server) => {
    const { config, store } = setup(server, {
      py: { events: ["e1", "e2"], intervals: ["5s", "5m"], auto_declare_events: true },
    });
    const group = config.get("py")!;
    const raw = await server.client();
    // What the Python EventGroup.log() does: INCRBY of the cur key of every interval.
    for (const interval of ["5s", "5m"]) {
      await raw.incrBy(`py:${interval}:cur:e1`, 3);
      await raw.incrBy(`py:${interval}:cur:dyn:id`, 1);
    }
    for (const interval of group.intervals) await store.rotate(group, interval, B);
    const last = await readSlot(store, group, group.intervals[1], "last");
    assert.deepEqual(Object.fromEntries(last.counts), { "dyn:id": 1, e1: 3, e2: 0 });
    assert.equal(last.end, B);
    assert.equal(last.start, undefined);
    const snap = await snapshot(server);
    assert.deepEqual(Object.keys(snap).filter((k) => k.startsWith("py:5s:")).sort(), [
      "py:5s:cur:@ts",
      "py:5s:cur:e1",
      "py:5s:cur:e2",
      "py:5s:last:dyn:id",
      "py:5s:last:e1",
      "py:5s:last:e2",
    ]);
    await within("end of store.close()", store.close());
  }));

Deno.test("Store.flush() writes a batch once, however often it is resent", () =>
  withRedis(async (server) => {
    const { config, store } = setup(server, { g: { events: ["a"], intervals: ["1m"] } });
    const [interval] = config.get("g")!.intervals;
    const raw = await server.client();
    const batch = (seq: number, writer = "w1") => ({
      group: config.get("g")!,
      interval,
      period: B,
      counts: new Map([["a", 5]]),
      nowSeconds: B + 1,
      graceSeconds: 2,
      writer,
      seq,
    });
    assert.equal(
      (await within("end of store.flush()", store.flush(batch(1)))).status,
      FlushStatus.Current,
    );
    assert.equal(
      (await within("end of store.flush()", store.flush(batch(1)))).status,
      FlushStatus.Duplicate,
    );
    assert.equal(
      (await within("end of store.flush()", store.flush(batch(2)))).status,
      FlushStatus.Current,
    );
    assert.equal(
      (await within("end of store.flush()", store.flush(batch(1)))).status,
      FlushStatus.Duplicate,
    );
    // Another writer's numbers are its own.
    assert.equal(
      (await within("end of store.flush()", store.flush(batch(1, "w2")))).status,
      FlushStatus.Current,
    );
    assert.equal(await raw.get("g:1m:cur:a"), "15");
    // The writer keys are reserved IDs: readers and rotation skip them, and they expire once no
    // resend could need them.
    const ttl = Number(await raw.pTTL("g:1m:cur:@w:w1"));
    assert.ok(ttl > RESEND_WINDOW_MS && ttl <= WRITER_RECORD_TTL_MS, `PTTL ${ttl}`);
    const group = config.get("g")!;
    await store.rotate(group, interval, B + 60);
    assert.equal(await raw.get("g:1m:cur:@w:w1"), "2");
    const last = await readSlot(store, { ...group, autoDeclareEvents: true }, interval, "last");
    assert.deepEqual(Object.fromEntries(last.counts), { a: 15 });
    await within("end of store.close()", store.close());
  }));

Deno.test("Store.flush() leaves a counter that is not an integer untouched and writes the others", () =>
  withRedis(async (server) => {
    const { config, store } = setup(server, { g: { events: ["a"], intervals: ["1m"] } });
    const [interval] = config.get("g")!.intervals;
    const raw = await server.client();
    await raw.set("g:1m:cur:bad", "hello");
    await raw.set("g:1m:cur:big", "9223372036854775807");
    const result = await within(
      "end of store.flush()",
      store.flush({
        group: config.get("g")!,
        interval,
        period: B,
        counts: new Map([["a", 1], ["bad", 2], ["big", 3], ["c", 4]]),
        nowSeconds: B + 1,
        graceSeconds: 2,
        writer: "w1",
        seq: 1,
      }),
    );
    assert.deepEqual(result, { status: FlushStatus.Current, rejected: ["bad", "big"] });
    assert.deepEqual(await raw.mGet(["g:1m:cur:a", "g:1m:cur:bad", "g:1m:cur:big", "g:1m:cur:c"]), [
      "1",
      "hello",
      "9223372036854775807",
      "4",
    ]);
    await within("end of store.close()", store.close());
  }));

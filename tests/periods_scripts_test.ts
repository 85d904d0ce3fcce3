/**
 * The periods layout's scripts against real servers: one redis-server, and a 3-master Redis
 * Cluster for the per-shard calls. Scripts are sent by a plain node-redis client here; the store
 * sends them the same way behind the layout seam.
 */
import { createHash } from "node:crypto";
import assert from "node:assert/strict";
import { createCluster } from "@redis/client";
import {
  batchWriterKey,
  expireAt,
  periodKey,
  shardOf,
  totalsKey,
  WRITER_TTL_MS,
  writerKey,
} from "../lib/layouts/periods_keys.ts";
import {
  combineWriteResults,
  parseWriteReply,
  type PeriodBatch,
  type PeriodsRedis,
  type PeriodsScript,
  PeriodsWriteStatus,
  planWrite,
  readPeriods,
  UNLINK_ABOVE_FIELDS,
  WRITE_HEADER_ARGS,
  WRITE_SCRIPT,
  WriteArg,
  writeBatch,
} from "../lib/layouts/periods_scripts.ts";
import { startCluster } from "./_cluster.ts";
import { type RawClient, withRedis } from "./_redis.ts";
import { sleep, within } from "./_wait.ts";

interface ScriptClient {
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  hGetAll(key: string): Promise<Record<string, string>>;
}

/** {@link PeriodsRedis} over a node-redis client (EVALSHA, then EVAL on NOSCRIPT), counting calls. */
function evalWith(client: ScriptClient): PeriodsRedis & { calls: number; hashReads: number } {
  const redis = {
    calls: 0,
    hashReads: 0,
    async evalScript(script: PeriodsScript, keys: string[], args: string[]) {
      redis.calls++;
      try {
        return await client.evalSha(createHash("sha1").update(script.source).digest("hex"), {
          keys,
          arguments: args,
        });
      } catch (error) {
        if (!String((error as Error).message).startsWith("NOSCRIPT")) throw error;
        return await client.eval(script.source, { keys, arguments: args });
      }
    },
    hGetAll(key: string) {
      redis.hashReads++;
      return client.hGetAll(key);
    },
  };
  return redis;
}

async function redisNow(raw: RawClient): Promise<number> {
  const [seconds, micros] = await raw.sendCommand(["TIME"]) as string[];
  return Number(seconds) + Number(micros) / 1e6;
}

/**
 * Start of the current 1m period on Redis's clock, at least 5 s before its end (waiting for the
 * next one if need be), so that a test's writes all happen in the period it computed.
 */
async function currentMinute(raw: RawClient): Promise<number> {
  const now = await redisNow(raw);
  const left = 60 - (now % 60);
  if (left < 5) await sleep(left * 1000 + 50);
  return Math.floor(await redisNow(raw) / 60) * 60;
}

function batch(
  overrides: Partial<PeriodBatch> & Pick<PeriodBatch, "start" | "counts">,
): PeriodBatch {
  return {
    group: "web",
    interval: "1m",
    intervalSeconds: 60,
    history: 3,
    shards: 8,
    graceSeconds: 2,
    writer: "w1",
    seq: 1,
    ...overrides,
  };
}

function events(n: number, prefix = "e"): Map<string, number> {
  return new Map(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, (i % 7) + 1]));
}

Deno.test("periods writeBatch(): one atomic call per batch on one Redis, read back exactly", async () => {
  await withRedis(async (server) => {
    const raw = await server.client();
    const run = evalWith(raw);
    const start = await currentMinute(raw);
    const counts = events(1000);
    const result = await writeBatch(run, batch({ start, counts }), false);
    assert.deepEqual(result, { status: PeriodsWriteStatus.Written, rejected: [], refused: 0 });
    assert.equal(run.calls, 1);
    // Only the 8 shard hashes and the writer's key exist.
    const keys = (await raw.keys("*")).sort();
    const expected = [batchWriterKey("web", "1m", "w1")];
    for (let shard = 0; shard < 8; shard++) expected.push(periodKey("web", "1m", start, shard));
    assert.deepEqual(keys, expected.sort());
    for (let shard = 0; shard < 8; shard++) {
      const key = periodKey("web", "1m", start, shard);
      assert.equal(await raw.expireTime(key), expireAt(start, 60, 3, shard));
      const fields = await raw.hGetAll(key);
      for (const [event, count] of Object.entries(fields)) {
        assert.equal(shardOf(event, 8), shard);
        assert.equal(Number(count), counts.get(event));
      }
    }
    const ttl = await raw.pTTL(batchWriterKey("web", "1m", "w1"));
    assert.ok(ttl > WRITER_TTL_MS - 60_000 && ttl <= WRITER_TTL_MS, `writer TTL ${ttl}`);
    const [period] = await readPeriods(run, {
      group: "web",
      interval: "1m",
      starts: [start],
      shards: 8,
    }, false);
    assert.deepEqual(period.counts, counts);
  });
});

Deno.test("periods writeBatch(): a resent batch is a Duplicate, the next number is written", async () => {
  await withRedis(async (server) => {
    const raw = await server.client();
    const run = evalWith(raw);
    const start = await currentMinute(raw);
    const first = batch({ start, counts: events(50), seq: 7 });
    assert.equal((await writeBatch(run, first, false)).status, PeriodsWriteStatus.Written);
    assert.equal((await writeBatch(run, first, false)).status, PeriodsWriteStatus.Duplicate);
    // An older number (it can only be a resend) is a Duplicate too.
    assert.equal(
      (await writeBatch(run, { ...first, seq: 6 }, false)).status,
      PeriodsWriteStatus.Duplicate,
    );
    // Another writer's batch with the same number is its own.
    assert.equal(
      (await writeBatch(run, { ...first, writer: "w2" }, false)).status,
      PeriodsWriteStatus.Written,
    );
    assert.equal(
      (await writeBatch(run, { ...first, seq: 8 }, false)).status,
      PeriodsWriteStatus.Written,
    );
    const [period] = await readPeriods(
      run,
      { group: "web", interval: "1m", starts: [start], shards: 8 },
      false,
    );
    assert.deepEqual(period.counts, new Map([...events(50)].map(([e, c]) => [e, 3 * c])));
  });
});

Deno.test("periods writeBatch(): per-shard calls resent after a partial failure add each shard once", async () => {
  await withRedis(async (server) => {
    const raw = await server.client();
    const run = evalWith(raw);
    const start = await currentMinute(raw);
    const counts = events(400);
    const hot = batch({ start, counts, seq: 3 });
    const calls = planWrite(hot, true);
    assert.equal(calls.length, 8);
    // The first attempt reached Redis for 3 shards only (the connection broke).
    for (const call of calls.slice(0, 3)) {
      await run.evalScript(WRITE_SCRIPT, call.keys, call.args);
    }
    assert.deepEqual(await writeBatch(run, hot, true), {
      status: PeriodsWriteStatus.Written,
      rejected: [],
      refused: 0,
    });
    for (let shard = 0; shard < 8; shard++) {
      assert.equal(await raw.get(writerKey("web", "1m", shard, "w1")), "3");
    }
    assert.equal((await writeBatch(run, hot, true)).status, PeriodsWriteStatus.Duplicate);
    const [period] = await readPeriods(
      run,
      { group: "web", interval: "1m", starts: [start], shards: 8 },
      true,
    );
    assert.deepEqual(period.counts, counts);
  });
});

Deno.test("periods writeBatch(): a period too far ahead or past retention is refused on Redis's clock", async () => {
  await withRedis(async (server) => {
    const raw = await server.client();
    const run = evalWith(raw);
    const current = await currentMinute(raw);
    const early = batch({ start: current + 600, counts: events(5), seq: 1 });
    // events(5) holds 1 + 2 + 3 + 4 + 5 counts.
    assert.deepEqual(await writeBatch(run, early, false), {
      status: PeriodsWriteStatus.TooEarly,
      rejected: [],
      refused: 15,
    });
    // Retention 3 finished periods: the 4th before the current one is gone.
    const late = batch({ start: current - 4 * 60, counts: events(5), seq: 2 });
    assert.deepEqual(await writeBatch(run, late, false), {
      status: PeriodsWriteStatus.TooLate,
      rejected: [],
      refused: 15,
    });
    // The resend of a refused batch is a Duplicate: the caller warns once.
    assert.equal((await writeBatch(run, late, false)).status, PeriodsWriteStatus.Duplicate);
    // The 3rd finished period and the next one within the grace are written.
    const kept = batch({
      start: current - 3 * 60,
      counts: events(5),
      seq: 3,
    });
    assert.equal((await writeBatch(run, kept, false)).status, PeriodsWriteStatus.Written);
    const next = batch({
      start: current + 60,
      counts: events(5),
      graceSeconds: 120,
      seq: 4,
    });
    assert.equal((await writeBatch(run, next, false)).status, PeriodsWriteStatus.Written);
    for (const start of [current + 600, current - 240]) {
      for (let shard = 0; shard < 8; shard++) {
        assert.equal(await raw.exists(periodKey("web", "1m", start, shard)), 0);
      }
    }
  });
});

Deno.test("periods writeBatch(): writing a begun period unlinks oversized shards that left the history", async () => {
  await withRedis(async (server) => {
    const raw = await server.client();
    const run = evalWith(raw);
    const current = await currentMinute(raw);
    // History 3: the period 4 before the current one left it when the current one began. Shards
    // 0–3 of the old periods are oversized, shards 4–7 small.
    const fill =
      "for i = 0, tonumber(ARGV[1]) - 1 do redis.call('HSET', KEYS[1], 'old' .. i, 1) end";
    for (const ago of [4, 3]) {
      for (let shard = 0; shard < 8; shard++) {
        const fields = shard < 4 ? UNLINK_ABOVE_FIELDS + 1 : 1;
        const key = periodKey("web", "1m", current - ago * 60, shard);
        await raw.eval(fill, { keys: [key], arguments: [String(fields)] });
      }
    }
    const present = async (ago: number) => {
      const shards = [];
      for (let shard = 0; shard < 8; shard++) {
        if (await raw.exists(periodKey("web", "1m", current - ago * 60, shard))) shards.push(shard);
      }
      return shards;
    };
    const all = [0, 1, 2, 3, 4, 5, 6, 7];
    // A period within the grace ahead (not begun on Redis's clock) retires nothing.
    const next = batch({ start: current + 60, counts: events(1000), graceSeconds: 120, seq: 1 });
    assert.equal((await writeBatch(run, next, false)).status, PeriodsWriteStatus.Written);
    assert.deepEqual([await present(4), await present(3)], [all, all]);
    // The current period: its first writes unlink the oversized shards; the small ones expire.
    const now = batch({ start: current, counts: events(1000), seq: 2 });
    assert.equal((await writeBatch(run, now, false)).status, PeriodsWriteStatus.Written);
    assert.deepEqual([await present(4), await present(3)], [[4, 5, 6, 7], all]);
  });
});

Deno.test("periods writeBatch(): fields that are not counts are listed, not written, the rest is", async () => {
  await withRedis(async (server) => {
    const raw = await server.client();
    const run = evalWith(raw);
    const start = await currentMinute(raw);
    const counts = new Map([["good", 1], ["text", 1], ["big", 1]]);
    const one = { start, counts, shards: 1 };
    await raw.hSet(periodKey("web", "1m", start, 0), { text: "abc", big: "9223372036854775807" });
    const result = await writeBatch(run, batch(one), false);
    assert.equal(result.status, PeriodsWriteStatus.Written);
    assert.deepEqual([...result.rejected].sort(), ["big", "text"]);
    assert.deepEqual({ ...await raw.hGetAll(periodKey("web", "1m", start, 0)) }, {
      text: "abc",
      big: "9223372036854775807",
      good: "1",
    });
    const [period] = await readPeriods(run, {
      group: "web",
      interval: "1m",
      starts: [start],
      shards: 1,
    }, false);
    // "abc" is not a count: left out of the read.
    assert.deepEqual(period.counts, new Map([["big", 9223372036854775807], ["good", 1]]));
    // A key of another type is left alone, and its life is not shortened.
    await raw.set(periodKey("web", "1h", start, 0), "foreign");
    const foreign = await writeBatch(
      run,
      batch({ ...one, interval: "1h", intervalSeconds: 3600 }),
      false,
    );
    assert.deepEqual([...foreign.rejected].sort(), ["big", "good", "text"]);
    assert.equal(await raw.get(periodKey("web", "1h", start, 0)), "foreign");
    assert.equal(await raw.ttl(periodKey("web", "1h", start, 0)), -1);
  });
});

Deno.test("periods writeBatch(): hostile event IDs only ever become hash fields", async () => {
  await withRedis(async (server) => {
    const raw = await server.client();
    const run = evalWith(raw);
    const start = await currentMinute(raw);
    const hostile = [
      "}{web:1m:0}:p:0",
      "*",
      "a\r\nFLUSHALL\r\n",
      "<script>alert(1)</script>",
      "😀",
      "x".repeat(10_000),
      "",
      "@ts",
    ];
    const counts = new Map(hostile.map((id, i) => [id, i + 1]));
    await writeBatch(run, batch({ start, counts }), false);
    const keys = await raw.keys("*");
    for (const key of keys) assert.match(key, /^\{web:1m(:[0-7]\}:p:\d+|\}:w:w1)$/);
    const [period] = await readPeriods(run, {
      group: "web",
      interval: "1m",
      starts: [start],
      shards: 8,
    }, false);
    assert.deepEqual(period.counts, counts);
  });
});

Deno.test("periods readPeriods(): many periods, oldest first, in calls bounded by the field budget", async () => {
  await withRedis(async (server) => {
    const raw = await server.client();
    const run = evalWith(raw);
    const current = await currentMinute(raw);
    const starts = [4, 3, 2, 1, 0].map((k) => current - k * 60);
    // Period 2 is big: ~300 fields per shard, more than the budget of 120.
    const size = (index: number) => index === 2 ? 600 : 100;
    for (const [index, start] of starts.entries()) {
      const counts = events(size(index), `p${index}-`);
      await writeBatch(run, batch({ start, counts, history: 5, shards: 2, seq: index }), false);
    }
    run.calls = 0;
    // 4 periods × 2 shards of ~50 fields through the script (2 of them per call at most: 4 calls),
    // the big period's 2 shards with HGETALL; an empty period after them.
    const periods = await readPeriods(
      run,
      { group: "web", interval: "1m", starts: [...starts, current + 60], shards: 2 },
      false,
      120,
    );
    assert.equal(run.calls, 4);
    assert.equal(run.hashReads, 2);
    assert.deepEqual(periods.map((period) => period.start), [...starts, current + 60]);
    for (const [index, period] of periods.entries()) {
      assert.deepEqual(period.counts, index < 5 ? events(size(index), `p${index}-`) : new Map());
    }
  });
});

Deno.test("periods layout on a 3-master Redis Cluster: one call per shard, spread over every master", async () => {
  const cluster = await startCluster();
  const client = createCluster({
    rootNodes: cluster.nodes.map((node) => ({ url: node.url })),
  });
  client.on("error", () => {});
  await client.connect();
  try {
    const run = evalWith(client);
    const raw = await cluster.nodes[0].client();
    const start = await currentMinute(raw);
    const counts = events(10_000);
    const hot = batch({ start, counts, shards: 16 });
    assert.equal(planWrite(hot, true).length, 16);
    const result = await writeBatch(run, hot, true);
    assert.deepEqual(result, { status: PeriodsWriteStatus.Written, rejected: [], refused: 0 });
    assert.equal(run.calls, 16);
    // The one hot group's keys sit on every master.
    const perNode = [];
    for (const node of cluster.nodes) {
      perNode.push(Number(await (await node.client()).sendCommand(["DBSIZE"])));
    }
    assert.equal(perNode.reduce((a, b) => a + b, 0), 32);
    assert.ok(perNode.every((keys) => keys > 0), `keys per master: ${perNode}`);
    // Resent after a lost reply: every shard is skipped.
    assert.equal((await writeBatch(run, hot, true)).status, PeriodsWriteStatus.Duplicate);
    const [period, empty] = await readPeriods(run, {
      group: "web",
      interval: "1m",
      starts: [start, start - 60],
      shards: 16,
    }, true);
    assert.deepEqual(period.counts, counts);
    assert.equal(empty.counts.size, 0);
  } finally {
    await within("end of client.close()", client.close());
    await cluster.stop();
  }
});

Deno.test("combineWriteResults(): refused wins and says how much, then Expired, then Written, then Duplicate", () => {
  const { Written, Duplicate, TooLate, TooEarly } = PeriodsWriteStatus;
  const result = (status: PeriodsWriteStatus, refused = 0, rejected: string[] = []) => ({
    status,
    rejected,
    refused,
  });
  // A cluster batch at the edge of retention: one node still took its shard, another refused.
  assert.deepEqual(
    combineWriteResults([result(Written, 0, ["x"]), result(TooLate, 7), result(TooLate, 3)]),
    result(TooLate, 10, ["x"]),
  );
  assert.deepEqual(combineWriteResults([result(TooEarly, 2)]), result(TooEarly, 2));
  assert.deepEqual(combineWriteResults([result(Duplicate), result(Written)]), result(Written));
  assert.deepEqual(combineWriteResults([result(Duplicate), result(Duplicate)]), result(Duplicate));
  assert.deepEqual(combineWriteResults([]), result(Written));
  // A resend too late on one node (cluster): Expired, unless a node refused the period.
  const { Expired } = PeriodsWriteStatus;
  assert.deepEqual(combineWriteResults([result(Written), result(Expired)]), result(Expired));
  assert.deepEqual(combineWriteResults([result(Expired), result(TooLate, 4)]), result(TooLate, 4));
  assert.deepEqual(parseWriteReply([TooLate], 9), result(TooLate, 9));
  assert.deepEqual(parseWriteReply([Written, "a", "b"], 9), result(Written, 0, ["a", "b"]));
});

Deno.test("planWrite(): a fixed header (deadline and totals flag included), per-shard arguments, then the pairs and nothing after", async (t) => {
  const counts = new Map([["a", 2], ["b", 5], ["1", 7]]);
  const shardsOf = [...counts.keys()].map((event) => shardOf(event, 4));
  await t.step("one call, a resend with totals", () => {
    const [call, ...more] = planWrite(
      batch({ start: 600, counts, shards: 4, seq: 9, resendDeadlineMs: 1234567, totals: true }),
      false,
    );
    assert.equal(more.length, 0);
    const k = new Set(shardsOf).size;
    const header = call.args.slice(0, WRITE_HEADER_ARGS);
    const at = (position: number) => header[position - 1];
    assert.equal(at(WriteArg.start), "600");
    assert.equal(at(WriteArg.graceSeconds), "2");
    assert.equal(at(WriteArg.keptUntil), String(600 + 60 + 3 * 60));
    assert.equal(at(WriteArg.seq), "9");
    assert.equal(at(WriteArg.writerTtlMs), String(WRITER_TTL_MS));
    assert.equal(at(WriteArg.resendDeadlineMs), "1234567");
    assert.equal(at(WriteArg.totals), "1");
    assert.equal(at(WriteArg.shards), String(k));
    // Per shard (EXPIREAT, n_j), then the pairs, which end the arguments.
    const perShard = call.args.slice(WRITE_HEADER_ARGS, WRITE_HEADER_ARGS + 2 * k);
    const sizes = perShard.filter((_, i) => i % 2 === 1).map(Number);
    assert.equal(sizes.reduce((a, b) => a + b), counts.size);
    const pairs = call.args.slice(WRITE_HEADER_ARGS + 2 * k);
    assert.equal(pairs.length, 2 * counts.size);
    const written = new Map<string, number>();
    for (let i = 0; i < pairs.length; i += 2) written.set(pairs[i], Number(pairs[i + 1]));
    assert.deepEqual(written, counts);
    assert.equal(call.total, 14);
    // KEYS: k period shards, k retired shards, one writer key, k totals hashes.
    assert.equal(call.keys.length, 3 * k + 1);
    assert.deepEqual(
      call.keys.slice(2 * k + 1),
      [...new Set(shardsOf)].sort((a, b) => a - b).map((shard) => totalsKey("web", "1m", shard)),
    );
  });
  await t.step("per shard, a first send without totals: deadline 0, flag 0", () => {
    const calls = planWrite(batch({ start: 600, counts, shards: 4 }), true);
    assert.equal(calls.length, new Set(shardsOf).size);
    for (const call of calls) {
      assert.equal(call.args[WriteArg.resendDeadlineMs - 1], "0");
      assert.equal(call.args[WriteArg.totals - 1], "0");
      assert.equal(call.args[WriteArg.shards - 1], "1");
      const n = Number(call.args[WRITE_HEADER_ARGS + 1]);
      assert.equal(call.args.length, WRITE_HEADER_ARGS + 2 + 2 * n);
      assert.equal(call.keys.length, 3);
    }
  });
  await t.step("event IDs that look like flags or deadlines stay pairs", () => {
    const tricky = new Map([["1", 1], ["0", 1], ["9999999999999", 1]]);
    const [call] = planWrite(batch({ start: 600, counts: tricky, shards: 1, totals: true }), false);
    assert.deepEqual(call.args.slice(WRITE_HEADER_ARGS + 2), [
      "1",
      "1",
      "0",
      "1",
      "9999999999999",
      "1",
    ]);
  });
});

Deno.test("periods WRITE_SCRIPT: resend deadline and totals together — Expired adds to neither, a resend in time is a Duplicate, a lost first send in time is written once", async () => {
  await withRedis(async (server) => {
    const raw = await server.client();
    const run = evalWith(raw);
    const start = await currentMinute(raw);
    const totalsOf = async () => {
      const totals = new Map<string, number>();
      for (let shard = 0; shard < 8; shard++) {
        for (const [e, v] of Object.entries(await raw.hGetAll(totalsKey("web", "1m", shard)))) {
          totals.set(e, Number(v));
        }
      }
      return totals;
    };
    const counts = new Map([["a", 3], ["1", 4]]);
    const redisMs = Math.floor((await redisNow(raw)) * 1000);
    // A first send (deadline 0) with totals: counts and totals once.
    const first = batch({ start, counts, seq: 1, totals: true });
    assert.equal((await writeBatch(run, first, false)).status, PeriodsWriteStatus.Written);
    // Its resend in time: a Duplicate, nothing added.
    const resent = { ...first, resendDeadlineMs: redisMs + 60_000 };
    assert.equal((await writeBatch(run, resent, false)).status, PeriodsWriteStatus.Duplicate);
    // A resend of a batch whose first send never arrived, past its deadline: Expired, nothing.
    const late = batch({ start, counts, seq: 2, totals: true, resendDeadlineMs: redisMs - 1 });
    assert.deepEqual(await writeBatch(run, late, false), {
      status: PeriodsWriteStatus.Expired,
      rejected: [],
      refused: 0,
    });
    assert.equal(await raw.get(batchWriterKey("web", "1m", "w1")), "1");
    // The same batch resent in time: written once, to the counts and the totals.
    const inTime = { ...late, resendDeadlineMs: redisMs + 60_000 };
    assert.equal((await writeBatch(run, inTime, false)).status, PeriodsWriteStatus.Written);
    assert.equal((await writeBatch(run, inTime, false)).status, PeriodsWriteStatus.Duplicate);
    const [period] = await readPeriods(
      run,
      { group: "web", interval: "1m", starts: [start], shards: 8 },
      false,
    );
    assert.deepEqual(period.counts, new Map([["a", 6], ["1", 8]]));
    assert.deepEqual(await totalsOf(), new Map([["a", 6], ["1", 8]]));
    // Per-shard calls (cluster-style) take the same header: an expired resend adds nothing.
    const perShard = batch({ start, counts, seq: 3, totals: true, resendDeadlineMs: 1 });
    assert.equal((await writeBatch(run, perShard, true)).status, PeriodsWriteStatus.Expired);
    assert.deepEqual(await totalsOf(), new Map([["a", 6], ["1", 8]]));
  });
});

Deno.test("periods WRITE_SCRIPT: arguments that do not end right after the pairs, or keys that do not fit the header, are refused, nothing written", async () => {
  await withRedis(async (server) => {
    const raw = await server.client();
    const run = evalWith(raw);
    const start = await currentMinute(raw);
    const [call] = planWrite(batch({ start, counts: new Map([["a", 1]]), totals: true }), false);
    for (const args of [[...call.args, "1"], call.args.slice(0, -1)]) {
      await assert.rejects(
        () => run.evalScript(WRITE_SCRIPT, call.keys, args),
        /ecl write script: \d+ arguments, expected \d+/,
      );
    }
    // KEYS that do not fit the totals flag: the totals hashes missing, or extra ones without it.
    const noTotals = [...call.args];
    noTotals[WriteArg.totals - 1] = "0";
    for (
      const [keys, args] of [[call.keys.slice(0, -1), call.args], [call.keys, noTotals]] as const
    ) {
      await assert.rejects(
        () => run.evalScript(WRITE_SCRIPT, [...keys], [...args]),
        /ecl write script: \d+ keys for 1 shards/,
      );
    }
    assert.deepEqual(await raw.keys("*"), []);
  });
});

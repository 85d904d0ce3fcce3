/** Pure tests of the periods layout's keys, shard function, shard count and time rules. */
import assert from "node:assert/strict";
import {
  currentPeriod,
  expireAt,
  EXPIRY_MARGIN_SECONDS,
  FIELDS_PER_SHARD,
  fnv1a32,
  keptUntil,
  MAX_SHARDS,
  periodKey,
  periodStarts,
  redisSeconds,
  shardCount,
  shardOf,
  shardTag,
  splitByShard,
  writerKey,
} from "../lib/layouts/periods_keys.ts";

Deno.test("periodKey() and writerKey() share the shard's hash tag", () => {
  assert.equal(shardTag("web", "5m", 3), "{web:5m:3}");
  assert.equal(periodKey("web", "5m", 1_795_000_200, 3), "{web:5m:3}:p:1795000200");
  assert.equal(writerKey("web", "5m", 3, "w-1"), "{web:5m:3}:w:w-1");
  assert.equal(periodKey("web", "5m", 0, 0), "{web:5m:0}:p:0");
});

Deno.test("fnv1a32() matches the published FNV-1a test vectors, over UTF-8 bytes", async (t) => {
  const cases: [string, number][] = [
    ["", 0x811c9dc5],
    ["a", 0xe40c292c],
    ["foobar", 0xbf9cf968],
    // "é" is the two bytes C3 A9 in UTF-8, not one UTF-16 unit.
    ["é", fnvBytes([0xc3, 0xa9])],
    ["😀", fnvBytes([0xf0, 0x9f, 0x98, 0x80])],
  ];
  for (const [text, hash] of cases) {
    await t.step(JSON.stringify(text), () => assert.equal(fnv1a32(text), hash));
  }
});

function fnvBytes(bytes: number[]): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

Deno.test("fnv1a32() hashes exactly the bytes TextEncoder gives, lone surrogates included", () => {
  const texts = [
    "plain",
    "ünïcödé",
    "中文字符",
    "a😀b🎉",
    "\ud800",
    "x\udc00y",
    "\ud83d",
    "\udbff\udfff",
    "\u0000\u007f\u0080\u07ff\u0800\uffff",
  ];
  for (const text of texts) {
    assert.equal(
      fnv1a32(text),
      fnvBytes([...new TextEncoder().encode(text)]),
      JSON.stringify(text),
    );
  }
});

Deno.test("shardOf() is stable, in range, and spreads IDs evenly", () => {
  assert.equal(shardOf("anything", 1), 0);
  // Pinned values: changing the shard function would misplace every stored count.
  const ids = ["a", "req1", "10.0.0.1", "/api/v1?x=1", "é"];
  assert.deepEqual(ids.map((id) => shardOf(id, 16)), [0, 1, 3, 3, 12]);
  assert.deepEqual(ids.map((id) => shardOf(id, 64)), [32, 17, 51, 3, 28]);
  for (const shards of [2, 16, 64, 1024]) {
    const sizes = new Array(shards).fill(0);
    const ids = shards * 200;
    // Sequential IDs (the usual case: e1, e2, … or IPs) must not pile up in a few shards.
    for (let i = 0; i < ids; i++) {
      const shard = shardOf(`10.${i >> 16 & 255}.${i >> 8 & 255}.${i & 255}`, shards);
      assert.ok(shard >= 0 && shard < shards && Number.isInteger(shard));
      sizes[shard]++;
    }
    const max = Math.max(...sizes);
    const min = Math.min(...sizes);
    assert.ok(max < 200 * 1.5 && min > 200 * 0.5, `${shards} shards: sizes ${min}–${max}`);
  }
});

Deno.test("shardCount() keeps the average shard at most FIELDS_PER_SHARD, powers of two", () => {
  assert.equal(shardCount(0), 1);
  assert.equal(shardCount(10), 1);
  assert.equal(shardCount(FIELDS_PER_SHARD), 1);
  assert.equal(shardCount(FIELDS_PER_SHARD + 1), 2);
  assert.equal(shardCount(1_000_000), 128);
  assert.equal(shardCount(1e12), MAX_SHARDS);
  assert.throws(() => shardCount(-1), RangeError);
  assert.throws(() => shardCount(1.5), /Cannot size shards for 1.5 events/);
});

Deno.test("splitByShard() puts every event in its shard, once", () => {
  const counts = new Map(Array.from({ length: 1000 }, (_, i) => [`e${i}`, i + 1]));
  const parts = splitByShard(counts, 8);
  let total = 0;
  for (const [shard, part] of parts) {
    for (const [event, count] of part) {
      assert.equal(shardOf(event, 8), shard);
      assert.equal(count, counts.get(event));
      total++;
    }
  }
  assert.equal(total, 1000);
  assert.deepEqual([...splitByShard(counts, 1).keys()], [0]);
});

Deno.test("currentPeriod() decides on Redis's TIME reply", () => {
  assert.equal(redisSeconds(["1795000259", "500000"]), 1_795_000_259.5);
  assert.equal(currentPeriod(["1795000259", "999999"], 60), 1_795_000_200);
  assert.equal(currentPeriod([1_795_000_260, 0], 60), 1_795_000_260);
  assert.equal(currentPeriod(["1795000199", "0"], 300), 1_794_999_900);
});

Deno.test("periodStarts() lists finished periods oldest first, then the current one", () => {
  assert.deepEqual(periodStarts(600, 60, 1), [540]);
  assert.deepEqual(periodStarts(600, 60, 3), [420, 480, 540]);
  assert.deepEqual(periodStarts(600, 60, 2, true), [480, 540, 600]);
  assert.deepEqual(periodStarts(600, 60, 0, true), [600]);
});

Deno.test("keptUntil() and expireAt(): history finished periods, then margin and spread", () => {
  // A 1m period starting at 600 is current until 660, the last finished one until 720; with
  // history 3 it is kept until 840.
  assert.equal(keptUntil(600, 60, 1), 720);
  assert.equal(keptUntil(600, 60, 3), 840);
  assert.equal(expireAt(600, 60, 3, 0), 840 + EXPIRY_MARGIN_SECONDS);
  assert.equal(expireAt(600, 60, 3, 7), 840 + EXPIRY_MARGIN_SECONDS + 7);
  assert.equal(expireAt(600, 60, 3, 60), 840 + EXPIRY_MARGIN_SECONDS);
});

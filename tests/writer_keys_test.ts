/**
 * Writer keys (`…:cur:@w:<id>`, each logger's last batch number for exactly-once resends): a
 * logger that closes with every batch settled leaves none behind, and one that dies with a batch
 * of unknown outcome leaves its keys only as long as that batch could still be resent.
 */
import assert from "node:assert/strict";
import { parseGroups } from "../lib/config.ts";
import { RESEND_WINDOW_MS, WRITER_RECORD_TTL_MS } from "../lib/layouts/layout.ts";
import { parseRedis } from "../lib/redis_config.ts";
import { FLUSH_SCRIPT, FlushStatus } from "../lib/scripts.ts";
import { Store } from "../lib/store.ts";
import { EventCountLogger } from "../mod.ts";
import { runCli, spawnScript, writeConfig } from "./_process.ts";
import { LossyProxy } from "./_proxy.ts";
import { type RawClient, RedisServer, withRedis } from "./_redis.ts";
import { startCluster } from "./_cluster.ts";
import { waitFor, within } from "./_wait.ts";

const WRITER_KEYS = "*:@w:*";
/** Real `ecl log` processes (each a Deno start-up: a few on 2 cores), and library loggers. */
const CLI_CALLS = 8;
const LIBRARY_LOGGERS = 1000;
/** Library loggers open and closed at once (each has its own connection). */
const LIBRARY_CONCURRENCY = 50;

const GROUPS = {
  web: { events: ["hit"], intervals: ["5s", "5m"] },
  dyn: { auto_declare_events: true, intervals: ["1m"] },
  cached: { events: ["hit"], intervals: ["1h"], sync_interval: 10 },
};

function configFor(port: number): Promise<string> {
  return writeConfig(`redis:
  host: 127.0.0.1
  port: ${port}
groups:
  web:
    events: [hit]
    intervals: [5s, 5m]
  dyn:
    auto_declare_events: true
    intervals: [1m]
`);
}

async function writerKeys(raw: RawClient): Promise<string[]> {
  return (await raw.keys(WRITER_KEYS)).sort();
}

Deno.test("ecl log calls and 1,000 library loggers that log and close leave no writer key", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    const config = await configFor(server.port);
    // No master runs: every count goes to `cur`, so the totals are exact.
    for (let i = 0; i < CLI_CALLS; i += 2) {
      const results = await Promise.all([
        runCli(["log", config, "web", "hit"]),
        runCli(["log", config, "dyn", `job${i % 3}`, "2"]),
      ]);
      for (const result of results) assert.equal(result.code, 0, result.stderr);
    }
    assert.deepEqual(await writerKeys(raw), []);
    const warnings: string[] = [];
    for (let started = 0; started < LIBRARY_LOGGERS; started += LIBRARY_CONCURRENCY) {
      await Promise.all(
        Array.from({ length: LIBRARY_CONCURRENCY }, async (_, index) => {
          const ecl = new EventCountLogger(GROUPS, server.spec, {
            onWarning: (message) => warnings.push(message),
          });
          ecl.getGroup("web")!.log("hit");
          ecl.getGroup("dyn")!.log(`job${(started + index) % 3}`, 2);
          ecl.getGroup("cached")!.log("hit", 3);
          await within("end of ecl.close()", ecl.close());
        }),
      );
    }
    assert.deepEqual(warnings, []);
    assert.deepEqual(await writerKeys(raw), []);
    const web = CLI_CALLS / 2 + LIBRARY_LOGGERS;
    const dyn = 2 * (CLI_CALLS / 2 + LIBRARY_LOGGERS);
    assert.deepEqual(await raw.mGet(["web:5s:cur:hit", "web:5m:cur:hit", "cached:1h:cur:hit"]), [
      String(web),
      String(web),
      String(3 * LIBRARY_LOGGERS),
    ]);
    const jobs = await raw.mGet(["dyn:1m:cur:job0", "dyn:1m:cur:job1", "dyn:1m:cur:job2"]);
    assert.equal(jobs.reduce((sum, value) => sum + Number(value), 0), dyn);
  }));

Deno.test("close(): a final write whose reply is lost is resent, counted once, and leaves no writer key", async () => {
  const server = await RedisServer.start();
  const proxy = await LossyProxy.start(server.port);
  const warnings: string[] = [];
  const ecl = new EventCountLogger(
    { g: { events: ["a"], intervals: ["1h", "1m"] } },
    { host: "127.0.0.1", port: proxy.port },
    { onWarning: (message) => warnings.push(message) },
  );
  try {
    const raw = await server.client();
    // Load the script first, so that the command whose reply is lost is the one that counts.
    await raw.scriptLoad(FLUSH_SCRIPT);
    await within("end of ecl.ready()", ecl.ready());
    proxy.dropReplyTo("EVALSHA");
    ecl.getGroup("g")!.log("a", 7);
    await within("end of ecl.close()", ecl.close());
    assert.equal(proxy.dropped, 1);
    assert.deepEqual(await raw.mGet(["g:1h:cur:a", "g:1m:cur:a"]), ["7", "7"]);
    assert.deepEqual(await writerKeys(raw), []);
    // The outage and the reconnection are reported; nothing was lost or given up.
    assert.ok(warnings.every((w) => /^(Cannot reach|Reconnected to) Redis/.test(w)), `${warnings}`);
  } finally {
    await within("end of proxy.close()", proxy.close());
    await server.stop();
  }
});

Deno.test("ecl log whose reply is lost exits 0, counts once and leaves no writer key", async () => {
  const server = await RedisServer.start();
  const proxy = await LossyProxy.start(server.port);
  try {
    const raw = await server.client();
    await raw.scriptLoad(FLUSH_SCRIPT);
    proxy.dropReplyTo("EVALSHA");
    const result = await runCli(["log", await configFor(proxy.port), "web", "hit", "4"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(proxy.dropped, 1);
    assert.deepEqual(await raw.mGet(["web:5s:cur:hit", "web:5m:cur:hit"]), ["4", "4"]);
    assert.deepEqual(await writerKeys(raw), []);
  } finally {
    await within("end of proxy.close()", proxy.close());
    await server.stop();
  }
});

Deno.test("a logger SIGKILLed with a batch of unknown outcome: a resend in its window counts once, then its key expires", async () => {
  const server = await RedisServer.start();
  const proxy = await LossyProxy.start(server.port);
  const store = new Store(parseRedis(server.spec));
  try {
    const raw = await server.client();
    await raw.scriptLoad(FLUSH_SCRIPT);
    const config = await writeConfig(`redis:
  host: 127.0.0.1
  port: ${proxy.port}
groups:
  g:
    events: [a]
    intervals: [1h]
`);
    // Its first write runs, its reply is lost, and it cannot reconnect to resend: then it dies.
    proxy.dropReplyTo("EVALSHA", { thenRefuse: true });
    const sentAfter = Date.now();
    const child = spawnScript("tests/_log_worker.ts", [config, "g", "1", "a"]);
    await waitFor("lost reply", () => Promise.resolve(proxy.dropped === 1));
    child.kill("SIGKILL");
    await child.status;
    assert.equal(await raw.get("g:1h:cur:a"), "1");
    const keys = await writerKeys(raw);
    assert.equal(keys.length, 1, `${keys}`);
    const [key] = keys;
    assert.equal(await raw.get(key), "1");
    // The key lives exactly as long as a resend could come: written after `sentAfter`, with
    // the TTL of the resend window plus the clock-skew margin.
    const ttl = Number(await raw.pTTL(key));
    const elapsed = Date.now() - sentAfter;
    assert.ok(ttl <= WRITER_RECORD_TTL_MS && ttl >= WRITER_RECORD_TTL_MS - elapsed, `PTTL ${ttl}`);
    // The same batch resent (the script call the logger would have made) within its window:
    // recognised, not counted again.
    const group = parseGroups({ g: { events: ["a"], intervals: ["1h"] } }).get("g")!;
    const writer = key.slice(key.lastIndexOf(":") + 1);
    const now = Date.now();
    const resend = (firstSentMs: number) =>
      store.flush({
        group,
        interval: group.intervals[0],
        period: Math.floor(now / 3_600_000) * 3600,
        counts: new Map([["a", 1]]),
        nowSeconds: now / 1000,
        graceSeconds: 2,
        writer,
        seq: 1,
        resendDeadlineMs: firstSentMs + RESEND_WINDOW_MS,
      });
    assert.equal((await resend(sentAfter)).status, FlushStatus.Duplicate);
    assert.equal(await raw.get("g:1h:cur:a"), "1");
    // Once the key is gone (here: made to expire now), a resend in the window would count twice;
    // none can come, since Redis refuses every resend past the window, by its own clock.
    await raw.pExpire(key, 1);
    await waitFor("expired writer key", async () => (await writerKeys(raw)).length === 0);
    const late = await resend(Date.now() - RESEND_WINDOW_MS - 1000);
    assert.equal(late.status, FlushStatus.Expired);
    assert.equal(await raw.get("g:1h:cur:a"), "1");
    assert.deepEqual(await writerKeys(raw), []);
  } finally {
    await within("end of store.close()", store.close());
    await within("end of proxy.close()", proxy.close());
    await server.stop();
  }
});

Deno.test("Store.releaseWriter() is idempotent and never removes the record of a later batch", () =>
  withRedis(async (server) => {
    const group = parseGroups({ g: { events: ["a"], intervals: ["1m", "1h"] } }).get("g")!;
    const store = new Store(parseRedis(server.spec));
    const raw = await server.client();
    const write = (seq: number) =>
      store.flush({
        group,
        interval: group.intervals[seq % 2],
        period: 1_795_000_200,
        counts: new Map([["a", 1]]),
        nowSeconds: 1_795_000_201,
        graceSeconds: 2,
        writer: "w1",
        seq,
      });
    await write(1);
    await write(2);
    assert.deepEqual(await raw.mGet(["g:1m:cur:@w:w1", "g:1h:cur:@w:w1"]), ["2", "1"]);
    // A release for batches up to 1 (late, say) leaves the record of batch 2.
    assert.equal(await store.releaseWriter(group, "w1", 1), true);
    assert.deepEqual(await writerKeys(raw), ["g:1m:cur:@w:w1"]);
    assert.equal(await store.releaseWriter(group, "w1", 2), true);
    assert.deepEqual(await writerKeys(raw), []);
    assert.equal(await store.releaseWriter(group, "w1", 2), true);
    // A user whose ACL lacks DEL: nothing is removed, nothing fails; the record expires.
    await write(3);
    await raw.sendCommand([
      "ACL",
      "SETUSER",
      "nodel",
      "on",
      ">pw",
      "resetkeys",
      "~g:*",
      "-@all",
      "+evalsha",
      "+eval",
      "+get",
      "+set",
      "+incrby",
    ]);
    const limited = new Store(parseRedis({ ...server.spec, username: "nodel", password: "pw" }));
    try {
      assert.equal(await limited.releaseWriter(group, "w1", 3), false);
      assert.deepEqual(await writerKeys(raw), ["g:1h:cur:@w:w1"]);
    } finally {
      await within("end of limited.close()", limited.close());
      await within("end of store.close()", store.close());
    }
  }));

Deno.test("Redis Cluster: a closing logger releases its writer keys in every hash slot", async () => {
  const cluster = await startCluster();
  const names = ["g1", "g2", "g3", "g4"];
  const ecl = new EventCountLogger(
    Object.fromEntries(
      names.map((name) => [name, {
        layout: "periods" as const,
        events: ["a"],
        intervals: ["1h", "1m"],
      }]),
    ),
    cluster.spec,
  );
  const allWriterKeys = async () => {
    const keys: string[] = [];
    for (const node of cluster.nodes) keys.push(...await (await node.client()).keys("*}:w:*"));
    return keys.sort();
  };
  try {
    for (const name of names) ecl.getGroup(name)!.log("a", 2);
    await within("end of ecl.flush()", ecl.flush());
    // One key per (group, interval, shard), in as many slots: spread over the masters.
    assert.equal((await allWriterKeys()).length, 2 * names.length);
    assert.deepEqual(
      (await allWriterKeys()).filter((key) => !/^\{g\d:1[hm]:0\}:w:/.test(key)),
      [],
    );
    await within("end of ecl.close()", ecl.close());
    assert.deepEqual(await allWriterKeys(), []);
    for (const name of names) {
      const counts: string[] = [];
      for (const node of cluster.nodes) {
        const raw = await node.client();
        for (const key of await raw.keys(`{${name}:1m:0}:p:*`)) {
          counts.push(await raw.hGet(key, "a") ?? "");
        }
      }
      assert.deepEqual(counts, ["2"]);
    }
  } finally {
    await within("end of ecl.close()", ecl.close());
    await cluster.stop();
  }
});

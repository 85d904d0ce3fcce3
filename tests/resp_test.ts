/**
 * ecl's own RESP client (lib/resp.ts), which the library and the CLI use in Deno for a plain server:
 * the reply parser, and the store's commands through it against real servers — plain, TLS, with
 * ACL users and wrong passwords, and across a server that goes away and comes back.
 */
import assert from "node:assert/strict";
import { type GroupConfig, parseGroups } from "../lib/config.ts";
import { ReplyError, setConnectionFactory } from "../lib/connection.ts";
import { RedisError } from "../lib/errors.ts";
import { MASTER_LEASE_KEY } from "../lib/keys.ts";
import { parseRedis, type RedisSpec } from "../lib/redis_config.ts";
import { nodeRedisConnection } from "../lib/node_redis.ts";
import { encodeCommand, ReplyReader, respConnection } from "../lib/resp.ts";
import { FlushStatus } from "../lib/scripts.ts";
import { Store } from "../lib/store.ts";
import { LossyProxy } from "./_proxy.ts";
import { freePort, makeTlsFiles, type RedisServer, withRedis } from "./_redis.ts";
import { within } from "./_wait.ts";

const B = 1_795_000_200; // a multiple of 60
const encoder = new TextEncoder();

/** Group `g` with events `a` and `b` and one interval, `1m`. */
function groupG(): GroupConfig {
  return parseGroups({ g: { events: ["a", "b"], intervals: ["1m"] } }).get("g")!;
}

/** The current values of `events` in `g:1m` (one MGET), in their order. */
async function current(store: Store, events: string[]): Promise<(string | null)[]> {
  const group = groupG();
  const { values } = await store.readPeriod(
    group,
    group.intervals[0],
    "cur",
    new Set(events),
    false,
  );
  return events.map((event) => values.get(event) ?? null);
}

/** Every event of `g:1m` with a current value (SCAN), sorted. */
async function listed(store: Store): Promise<string[]> {
  const group = groupG();
  const { values } = await store.readPeriod(group, group.intervals[0], "cur", new Set(), true);
  return [...values.keys()].sort();
}

/** A store over the RESP client (a plain server's client in Deno). */
async function withRespStore<T>(
  spec: RedisSpec,
  body: (store: Store) => Promise<T>,
  options: { reconnect?: boolean } = {},
): Promise<T> {
  const store = new Store(parseRedis(spec), { reconnect: options.reconnect ?? false });
  try {
    return await body(store);
  } finally {
    await within("end of store.close()", store.close());
  }
}

Deno.test("ReplyReader reads every RESP2 type, however the bytes are cut", () => {
  const text = "+OK\r\n:42\r\n:-7\r\n$5\r\nhé\r\n\r\n$-1\r\n*-1\r\n*0\r\n" +
    "*2\r\n$1\r\na\r\n*2\r\n:1\r\n$0\r\n\r\n-ERR x\r\n*2\r\n-NOSCRIPT none\r\n:7\r\n";
  const bytes = encoder.encode(text);
  const whole = new ReplyReader().feed(bytes);
  assert.deepEqual(whole.slice(0, 8), ["OK", 42, -7, "hé\r\n", null, null, [], ["a", [1, ""]]]);
  assert.ok(whole[8] instanceof ReplyError);
  assert.equal((whole[8] as ReplyError).message, "ERR x");
  const inArray = whole[9] as unknown[];
  assert.ok(inArray[0] instanceof ReplyError);
  assert.deepEqual([whole.length, inArray[1]], [10, 7]);
  // Cut in two anywhere (mid line, mid string, mid array), the same replies come out.
  for (let cut = 0; cut <= bytes.length; cut++) {
    const reader = new ReplyReader();
    const replies = [...reader.feed(bytes.subarray(0, cut)), ...reader.feed(bytes.subarray(cut))];
    assert.deepEqual(replies, whole, `cut at ${cut}`);
  }
  // Byte by byte, too.
  const reader = new ReplyReader();
  const replies = [...bytes].flatMap((byte) => reader.feed(new Uint8Array([byte])));
  assert.deepEqual(replies, whole);
});

Deno.test("encodeCommand() sends arguments as binary-safe bulk strings, lengths in bytes", () => {
  assert.equal(
    new TextDecoder().decode(encodeCommand(["SET", "k é", "a\r\nb"])),
    "*3\r\n$3\r\nSET\r\n$4\r\nk é\r\n$4\r\na\r\nb\r\n",
  );
  // Every kind of character, lone surrogates included: the lengths are TextEncoder's.
  for (
    const arg of ["", "abc", "é", "€", "😀", "a😀b", "\ud800", "x\udc00", "\ud800\ud800", "\ud83d"]
  ) {
    const expected = `*1\r\n$${encoder.encode(arg).length}\r\n`;
    const text = new TextDecoder().decode(encodeCommand([arg]));
    assert.ok(text.startsWith(expected), JSON.stringify(arg));
    assert.equal(encodeCommand([arg]).length, expected.length + encoder.encode(arg).length + 2);
  }
});

Deno.test("the store's commands give the same results over the RESP client as over node-redis", () =>
  withRedis(async (server) => {
    const group = groupG();
    const [interval] = group.intervals;
    setConnectionFactory(nodeRedisConnection);
    let node: Store;
    try {
      node = new Store(parseRedis(server.spec), { reconnect: false });
    } finally {
      setConnectionFactory(undefined);
    }
    try {
      await withRespStore(server.spec, async (resp) => {
        assert.equal(await resp.rotate(group, interval, B), 2);
        const request = (writer: string, counts: [string, number][]) => ({
          group,
          interval,
          period: B,
          counts: new Map(counts),
          nowSeconds: B + 1,
          graceSeconds: 5,
          writer,
          seq: 1,
        });
        // Event IDs are user data: spaces, newlines, non-ASCII and RESP markers pass unharmed.
        const odd = "x y\r\n$3\r\n*é";
        assert.deepEqual(
          await within("end of resp.flush()", resp.flush(request("w1", [["a", 3], [odd, 2]]))),
          {
            status: FlushStatus.Current,
            rejected: [],
          },
        );
        // The same batch again (same writer and seq) is not added twice.
        assert.equal(
          (await within("end of resp.flush()", resp.flush(request("w1", [["a", 3]])))).status,
          FlushStatus.Duplicate,
        );
        assert.equal(
          (await within("end of node.flush()", node.flush(request("w2", [["b", 1]])))).status,
          FlushStatus.Current,
        );
        const events = ["a", "b", odd, "none"];
        assert.deepEqual(await current(resp, events), ["3", "1", "2", null]);
        assert.deepEqual(await current(resp, events), await current(node, events));
        assert.deepEqual(await listed(resp), await listed(node));
        assert.deepEqual(await listed(resp), ["a", "b", odd].sort());
        // A counter that is not a number is refused, by name.
        const raw = await server.client();
        await raw.set("g:1m:cur:a", "nope");
        const second = { ...request("w1", [["a", 1]]), seq: 2 };
        assert.deepEqual((await within("end of resp.flush()", resp.flush(second))).rejected, ["a"]);
        // Many keys and a reply far larger than one socket read arrive whole and in order.
        const many = Array.from({ length: 5000 }, (_, i) => `big:${i}`);
        await raw.mSet(
          many.map((event, i): [string, string] => [`g:1m:cur:${event}`, `${i}`.padEnd(40, "v")]),
        );
        const values = await current(resp, many);
        assert.deepEqual(values, many.map((_, i) => `${i}`.padEnd(40, "v")));
        // Commands in flight at once are answered in order.
        const parallel = await Promise.all(
          many.slice(0, 200).map((event) => current(resp, [event])),
        );
        assert.deepEqual(parallel.flat(), values.slice(0, 200));
      });
    } finally {
      await within("end of node.close()", node.close());
    }
  }));

Deno.test("HGETALL gives a prototype-less field map over both clients, whatever the field names", () =>
  withRedis(async (server) => {
    // Hash fields are event IDs (user data); node-redis 6 builds a plain object by itself.
    const fields = ["__proto__", "constructor", "toString", "hasOwnProperty", "a"];
    const raw = await server.client();
    await raw.hSet("h", fields.map((field, i): [string, string] => [field, String(i)]));
    const options = { reconnect: false, offlineQueue: false };
    for (const make of [nodeRedisConnection, respConnection]) {
      const connection = make(parseRedis(server.spec), options, undefined);
      try {
        await connection.connect();
        const map = await connection.hGetAll("h");
        assert.equal(Object.getPrototypeOf(map), null, make.name);
        assert.deepEqual(
          Object.entries(map).sort(),
          fields.map((field, i) => [field, String(i)]).sort(),
          make.name,
        );
        assert.deepEqual(Object.keys(await connection.hGetAll("none")), [], make.name);
      } finally {
        await within("end of connection.close()", connection.close());
      }
    }
  }));

Deno.test("the RESP client connects over TLS with the configured CA, and refuses another CA", () =>
  withRedis(
    async (server) => {
      await withRespStore(server.spec, async (store) => {
        assert.equal(await store.leaseHolder(), undefined);
      });
      const dir = await Deno.makeTempDir({ prefix: "ecl-resp-ca-" });
      try {
        const other = await makeTlsFiles(dir);
        await withRespStore(
          { host: "127.0.0.1", port: server.port, tls: { ca_file: other.caFile } },
          async (store) => {
            await assert.rejects(
              store.leaseHolder(),
              (error: unknown) =>
                error instanceof RedisError &&
                /^Cannot connect to Redis at rediss:\/\/127\.0\.0\.1:\d+\/0: .*certificate/.test(
                  error.message,
                ),
            );
          },
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
    [],
    { tls: true },
  ));

Deno.test("the RESP client authenticates an ACL user, selects its database and reports refusals", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    await raw.sendCommand(["ACL", "SETUSER", "reader", "on", ">s3cret", "~*", "+@read", "+select"]);
    await raw.select(3);
    await raw.set(MASTER_LEASE_KEY, "in db 3");
    const spec = { host: "127.0.0.1", port: server.port, db: 3, username: "reader" };
    await withRespStore({ ...spec, password: "s3cret" }, async (store) => {
      assert.equal(await store.leaseHolder(), "in db 3");
      // EVALSHA is not among +@read: Redis refuses it, and says so.
      const group = groupG();
      await assert.rejects(
        store.rotate(group, group.intervals[0], B),
        (error: unknown) =>
          error instanceof RedisError && error.refused && !error.outcomeUnknown &&
          /NOPERM/.test(error.message),
      );
    });
    await withRespStore({ ...spec, password: "wrong" }, async (store) => {
      await assert.rejects(
        store.leaseHolder(),
        (error: unknown) =>
          error instanceof RedisError &&
          /^Cannot connect to Redis at redis:\/\/reader@127\.0\.0\.1:\d+\/3: WRONGPASS/.test(
            error.message,
          ) && !error.message.includes("wrong"),
      );
    });
  }));

Deno.test("the RESP client fails a command while Redis is down, and connects again after", () =>
  withRedis(async (server: RedisServer) => {
    await withRespStore(server.spec, async (store) => {
      assert.equal(await store.leaseHolder(), undefined);
      await server.kill();
      await assert.rejects(
        store.leaseHolder(),
        (error: unknown) =>
          error instanceof RedisError &&
          /Redis at redis:\/\/127\.0\.0\.1:\d+\/0/.test(error.message),
      );
      await server.restart();
      const raw = await server.client();
      await raw.set(MASTER_LEASE_KEY, "back");
      assert.equal(await store.leaseHolder(), "back");
    }, { reconnect: true });
  }));

Deno.test("the RESP client reports a refused connection like node-redis", async () => {
  const port = await freePort();
  await withRespStore({ host: "127.0.0.1", port }, async (store) => {
    await assert.rejects(
      store.leaseHolder(),
      new RegExp(
        `^RedisError: Cannot connect to Redis at redis://127\\.0\\.0\\.1:${port}/0: ` +
          `connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`,
      ),
    );
  });
});

Deno.test("the RESP client fails a command in flight when the connection breaks: outcome unknown", () =>
  withRedis(async (server: RedisServer) => {
    const group = groupG();
    const interval = group.intervals[0];
    // Redis runs the command; the proxy drops the connection instead of passing the reply on.
    const proxy = await LossyProxy.start(server.port);
    try {
      await withRespStore({ host: "127.0.0.1", port: proxy.port }, async (store) => {
        const batch = (event: string, seq: number) => ({
          group,
          interval,
          period: B,
          counts: new Map([[event, 1]]),
          nowSeconds: B + 1,
          graceSeconds: 5,
          writer: "w",
          seq,
        });
        // A first batch loads the script, so that the next EVALSHA runs (no NOSCRIPT round).
        assert.equal(
          (await within("end of store.flush()", store.flush(batch("a", 1)))).status,
          FlushStatus.Current,
        );
        proxy.dropReplyTo("lost-reply-marker");
        const error = await within(
          "end of store.flush()",
          store.flush(batch("lost-reply-marker", 2)),
        )
          .then(() => undefined, (error: unknown) => error);
        assert.ok(
          error instanceof RedisError && error.outcomeUnknown &&
            /^Cannot write counts of g:1m in Redis at redis:\/\/127\.0\.0\.1:\d+\/0: /.test(
              error.message,
            ),
          String(error),
        );
        assert.equal(proxy.dropped, 1);
      });
    } finally {
      await within("end of proxy.close()", proxy.close());
    }
    // It ran: that is why its outcome is unknown, and why the pipeline resends it with its number.
    const raw = await server.client();
    assert.equal(await raw.get("g:1m:cur:lost-reply-marker"), "1");
  }));

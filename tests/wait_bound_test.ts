/**
 * `flush()` and `ready()` wait for Redis as long as it takes, unless the caller bounds the wait
 * (`timeoutMs`, `signal`): then they reject naming what they waited for, and the counts stay
 * pending and are written once Redis is back, exactly once.
 */
import assert from "node:assert/strict";
import { EventCountLogger, RedisError } from "../mod.ts";
import { withRedis } from "./_redis.ts";
import { waitFor, within } from "./_wait.ts";

const GROUPS = { g: { events: ["a"], intervals: ["24h"] } };

Deno.test("flush({ timeoutMs }) and flush({ signal }) stop waiting for a Redis that is down; the counts are written once it is back", () =>
  withRedis(async (server) => {
    const warnings: string[] = [];
    const ecl = new EventCountLogger(GROUPS, { host: "127.0.0.1", port: server.port }, {
      onWarning: (message) => warnings.push(message),
    });
    const group = ecl.getGroup("g")!;
    try {
      group.log("a", 2);
      await within("the first counts written", group.flush());
      await server.kill();
      const address = `redis://127.0.0.1:${server.port}/0`;
      // Once the logger knows (a write sent just before would fail at once instead of waiting).
      await waitFor(
        "the outage warning",
        () =>
          Promise.resolve(warnings.some((w) => w.startsWith(`Cannot reach Redis at ${address}`))),
      );
      group.log("a", 3);
      await assert.rejects(
        within("end of group.flush()", group.flush({ timeoutMs: 300 })),
        (error) => {
          assert.ok(error instanceof RedisError);
          assert.equal(
            error.message,
            `Cannot confirm the counts of group "g": Redis at ${address} did not confirm them within 0.3 s; 1 counts stay pending and are written when it is back`,
          );
          assert.equal((error.cause as Error).name, "TimeoutError");
          return true;
        },
      );
      const controller = new AbortController();
      const aborted = ecl.flush({ signal: controller.signal });
      controller.abort(new Error("shutting down"));
      await assert.rejects(aborted, (error) => {
        assert.ok(error instanceof RedisError);
        assert.match(error.message, /before the wait was aborted; 1 counts stay pending/);
        assert.equal((error.cause as Error).message, "shutting down");
        return true;
      });
      // An aborted signal: no wait at all.
      await assert.rejects(
        within("end of group.flush()", group.flush({ signal: AbortSignal.abort() })),
        RedisError,
      );
      assert.equal(group.pendingSize, 1);
      await server.restart();
      await within(
        "the pending counts written once Redis is back",
        group.flush({ timeoutMs: 20_000 }),
      );
      const raw = await server.client();
      // No persistence: the first 2 died with the server; the 3 kept in memory are there once.
      assert.equal(await raw.get("g:24h:cur:a"), "3");
      assert.equal(group.pendingSize, 0);
    } finally {
      await within("end of ecl.close()", ecl.close({ timeoutMs: 2000 }));
    }
  }));

Deno.test("ready({ timeoutMs }) stops waiting for a Redis that accepts connections but never answers", () =>
  withRedis(async (server) => {
    // Database 1: connecting needs an answer (SELECT), which a stopped server never gives.
    const ecl = new EventCountLogger(GROUPS, { host: "127.0.0.1", port: server.port, db: 1 }, {
      onWarning: () => {},
    });
    server.pause();
    try {
      await assert.rejects(within("end of ecl.ready()", ecl.ready({ timeoutMs: 300 })), (error) => {
        assert.ok(error instanceof RedisError);
        assert.equal(
          error.message,
          `Cannot connect to Redis at redis://127.0.0.1:${server.port}/1: no answer within 0.3 s`,
        );
        return true;
      });
      server.resume();
      await within("the connection once Redis answers", ecl.ready());
      ecl.getGroup("g")!.log("a");
      await within("the count written", ecl.flush());
      assert.equal(await (await server.client()).sendCommand(["GET", "g:24h:cur:a"]), null);
      const raw = await server.client();
      await raw.select(1);
      assert.equal(await raw.get("g:24h:cur:a"), "1");
    } finally {
      server.resume();
      await within("end of ecl.close()", ecl.close({ timeoutMs: 2000 }));
    }
  }));

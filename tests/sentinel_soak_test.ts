/**
 * Redis Sentinel soak: loggers (direct and cached mode) write the whole time while the master is
 * killed again and again and the sentinel promotes the other node; at the end Redis holds exactly
 * what was logged. Real processes: two data nodes and one sentinel on free loopback ports.
 */
import assert from "node:assert/strict";
import { EventCountLogger } from "../mod.ts";
import { startSentinel } from "./_sentinel.ts";
import { sleep, within } from "./_wait.ts";

/** Failovers in a row (the issue asks for at least 20). */
const FAILOVERS = Number(Deno.env.get("ECL_TEST_FAILOVERS") ?? 20);

Deno.test(`Redis Sentinel soak: ${FAILOVERS} failovers back and forth while loggers write, exact counts`, async () => {
  const setup = await startSentinel();
  const warnings: string[] = [];
  const ecl = new EventCountLogger(
    {
      direct: { events: ["a", "b"], intervals: ["24h"] },
      cached: { events: ["a", "b"], intervals: ["24h"], sync_interval: 0.2, sync_limit: 500 },
    },
    setup.spec,
    { onWarning: (message) => warnings.push(message) },
  );
  const logged: Record<string, number> = { direct: 0, cached: 0 };
  let writing = true;
  const writer = (async () => {
    while (writing) {
      for (const name of ["direct", "cached"]) {
        const group = ecl.getGroup(name)!;
        for (let i = 0; i < 10; i++) {
          assert.ok(group.log(i % 3 === 0 ? "b" : "a"));
          logged[name]++;
        }
      }
      await sleep(5);
    }
  })();
  const started = Date.now();
  try {
    await within("first counts written", ecl.flush());
    for (let i = 0; i < FAILOVERS; i++) await setup.failover();
    writing = false;
    await writer;
    await within(`the last counts written after ${FAILOVERS} failovers`, ecl.flush());
    const master = await setup.client(await setup.master());
    for (const name of ["direct", "cached"]) {
      const a = Number(await master.get(`${name}:24h:cur:a`));
      const b = Number(await master.get(`${name}:24h:cur:b`));
      assert.equal(a + b, logged[name], `${name}: ${a} + ${b} in Redis, ${logged[name]} logged`);
    }
    console.log(
      `sentinel soak: ${setup.failovers} failovers in ${Date.now() - started} ms, ` +
        `${logged.direct} direct + ${logged.cached} cached counts, all written once; ` +
        JSON.stringify(setup.timings),
    );
  } finally {
    writing = false;
    await writer.catch(() => {});
    await within("end of ecl.close()", ecl.close({ timeoutMs: 2000 }));
    await setup.stop();
  }
});

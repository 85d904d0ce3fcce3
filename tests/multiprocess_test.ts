/** Several OS processes logging into the same counters: totals are exact. */
import assert from "node:assert/strict";
import { runScript, writeConfig } from "./_process.ts";
import { withRedis } from "./_redis.ts";

const PROCESSES = 4;
const EVENTS_PER_PROCESS = 250_000;
const EVENTS = ["e1", "e2", "e3", "e4"];

for (const mode of ["direct", "cached"] as const) {
  Deno.test(`${PROCESSES} processes × ${EVENTS_PER_PROCESS} events in ${mode} mode give exact totals`, () =>
    withRedis(async (server) => {
      const cache = mode === "cached" ? "\n    sync_interval: 0.5\n    sync_limit: 10000" : "";
      const config = await writeConfig(
        `redis: {host: 127.0.0.1, port: ${server.port}}\ngroups:\n  load:\n    events: [${
          EVENTS.join(", ")
        }]\n    intervals: [1m, 1h]${cache}\n`,
      );
      try {
        const results = await Promise.all(
          Array.from(
            { length: PROCESSES },
            () =>
              runScript("tests/_log_worker.ts", [
                config,
                "load",
                String(EVENTS_PER_PROCESS),
                ...EVENTS,
              ]),
          ),
        );
        for (const result of results) assert.equal(result.code, 0, result.stderr);
        // No master runs, so everything is in cur, whatever boundaries passed.
        const raw = await server.client();
        for (const interval of ["1m", "1h"]) {
          const values = await raw.mGet(EVENTS.map((event) => `load:${interval}:cur:${event}`));
          assert.deepEqual(
            values,
            EVENTS.map(() => String(PROCESSES * EVENTS_PER_PROCESS / EVENTS.length)),
          );
        }
      } finally {
        await Deno.remove(config);
      }
    }));
}

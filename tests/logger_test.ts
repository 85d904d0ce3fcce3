import assert from "node:assert/strict";
import { EventCountLogger } from "../mod.ts";
import { withRedis } from "./_redis.ts";

Deno.test("EventGroup.log() writes counts to cur of every interval", () =>
  withRedis(async (server) => {
    const warnings: string[] = [];
    const ecl = new EventCountLogger(
      { requests: { events: ["req1", "req2"], intervals: ["5s", "5m"] } },
      server.spec,
      { onWarning: (m) => warnings.push(m) },
    );
    const group = ecl.getGroup("requests")!;
    for (let i = 0; i < 1000; i++) group.log("req1");
    group.log("req2", 7);
    await group.flush();
    const raw = await server.client();
    assert.equal(await raw.get("requests:5s:cur:req1"), "1000");
    assert.equal(await raw.get("requests:5m:cur:req1"), "1000");
    assert.equal(await raw.get("requests:5m:cur:req2"), "7");
    assert.deepEqual(await group.getCounts("5m", { current: true }), { req1: 1000, req2: 7 });
    await ecl.close();
    assert.deepEqual(warnings, []);
  }));

/** The master against real time (1 s intervals), in-process and as CLI processes. */
import assert from "node:assert/strict";
import { parseConfig } from "../lib/config.ts";
import { Master } from "../lib/master.ts";
import { Store } from "../lib/store.ts";
import { EventCountLogger } from "../mod.ts";
import { spawnScript, writeConfig } from "./_process.ts";
import { type RedisServer, withRedis } from "./_redis.ts";
import { sleep, within } from "./_wait.ts";

/** Sleep until `offsetMs` after the next whole-second boundary; returns that boundary (s). */
async function afterNextSecond(offsetMs: number): Promise<number> {
  const boundary = Math.floor(Date.now() / 1000) + 1;
  await sleep(boundary * 1000 + offsetMs - Date.now());
  return boundary;
}

async function startMaster(server: RedisServer, lateMs = 0) {
  const config = parseConfig({
    redis: server.spec,
    groups: { g: { events: ["a"], intervals: ["1s"] } },
  });
  const store = new Store(config.redis);
  const master = new Master(config, store, { now: () => Date.now() - lateMs });
  await master.start();
  return {
    async stop() {
      await master.stop();
      await within("end of store.close()", store.close());
    },
  };
}

Deno.test("Master rotates at every boundary; counts land in last of their interval", () =>
  withRedis(async (server) => {
    const master = await startMaster(server);
    const ecl = new EventCountLogger({ g: { events: ["a"], intervals: ["1s"] } }, server.spec);
    const group = ecl.getGroup("g")!;
    const raw = await server.client();
    try {
      const period = await afterNextSecond(200);
      group.log("a", 10);
      await within("end of group.flush()", group.flush());
      await afterNextSecond(300);
      assert.equal(await raw.get("g:1s:last:a"), "10");
      assert.equal(await raw.get("g:1s:last:@ts"), `${period}/${period + 1}`);
      assert.equal(await raw.get("g:1s:cur:@ts"), String(period + 1));
      assert.equal(await raw.get("g:1s:cur:a"), "0");
    } finally {
      await within("end of ecl.close()", ecl.close());
      await master.stop();
    }
  }));

Deno.test("EventGroup in cached mode: counts straddling a boundary go to their own interval", () =>
  withRedis(async (server) => {
    const master = await startMaster(server);
    const ecl = new EventCountLogger(
      { g: { events: ["a"], intervals: ["1s"], sync_interval: 3600 } },
      server.spec,
    );
    const group = ecl.getGroup("g")!;
    const raw = await server.client();
    try {
      await afterNextSecond(500);
      group.log("a", 7);
      await afterNextSecond(300);
      group.log("a", 5);
      await afterNextSecond(-300);
      // The boundary flush wrote the 7 to the interval they were logged in; the 5 are cached.
      assert.equal(await raw.get("g:1s:last:a"), "7");
      assert.equal(await raw.get("g:1s:cur:a"), "0");
      assert.deepEqual(await group.getCurrentCounts("a"), { "1s": 5 });
      await within("end of group.flush()", group.flush());
      assert.equal(await raw.get("g:1s:cur:a"), "5");
    } finally {
      await within("end of ecl.close()", ecl.close());
      await master.stop();
    }
  }));

Deno.test("EventGroup: counts of a period the master has not opened yet wait for it", () =>
  withRedis(async (server) => {
    // This master rotates 400 ms after each boundary.
    const master = await startMaster(server, 400);
    const ecl = new EventCountLogger({ g: { events: ["a"], intervals: ["1s"] } }, server.spec);
    const group = ecl.getGroup("g")!;
    const raw = await server.client();
    try {
      await afterNextSecond(700);
      group.log("a", 3); // period P, reaches cur before the rotation at P+1.4
      await within("end of group.flush()", group.flush());
      await afterNextSecond(100);
      group.log("a", 4); // period P+1, logged before the master opened it
      await afterNextSecond(-200); // P+1.8: the master rotated at P+1.4
      assert.equal(await raw.get("g:1s:last:a"), "3");
      assert.equal(await raw.get("g:1s:cur:a"), "4");
      assert.equal(group.pendingSize, 0);
    } finally {
      await within("end of ecl.close()", ecl.close());
      await master.stop();
    }
  }));

Deno.test("ecl master: two masters at once rotate every boundary exactly once", () =>
  withRedis(async (server) => {
    const config = await writeConfig(
      `redis: {host: 127.0.0.1, port: ${server.port}}\ngroups:\n  g:\n    events: [a]\n    intervals: [1s, 2s]\n`,
    );
    const masters = [0, 1].map(() => spawnScript("cli.ts", ["master", config, "-v"]));
    try {
      await sleep(4500);
    } finally {
      for (const master of masters) master.kill("SIGTERM");
    }
    const outputs = await Promise.all(masters.map((master) => master.output()));
    await Deno.remove(config);
    const lines: string[] = [];
    for (const output of outputs) {
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      lines.push(...new TextDecoder().decode(output.stderr).split("\n"));
    }
    assert.equal(lines.filter((line) => line === "ecl: master stopping (SIGTERM)").length, 2);
    for (const interval of ["1s", "2s"]) {
      const rotated = lines
        .map((line) => new RegExp(`^ecl: rotated g:${interval} at (\\S+):`).exec(line)?.[1])
        .filter((at) => at !== undefined)
        .map((at) => Date.parse(at!) / 1000)
        .sort();
      assert.equal(new Set(rotated).size, rotated.length, `a boundary rotated twice: ${rotated}`);
      const step = interval === "1s" ? 1 : 2;
      assert.ok(rotated.length >= 4 / step, `too few rotations of ${interval}: ${rotated}`);
      for (let i = 1; i < rotated.length; i++) assert.equal(rotated[i] - rotated[i - 1], step);
    }
  }));

Deno.test("Master: one whose clock is 3 s fast never rotates a boundary twice with a correct one", () =>
  withRedis(async (server) => {
    const config = parseConfig({
      redis: server.spec,
      groups: { g: { events: ["a"], intervals: ["1s"] } },
    });
    const rotated: number[] = [];
    const stores = [new Store(config.redis), new Store(config.redis)];
    const masters = [0, 3000].map((skewMs, index) =>
      new Master(config, stores[index], {
        now: () => Date.now() + skewMs,
        onRotation: (report) => report.events >= 0 && rotated.push(report.boundary),
      })
    );
    try {
      for (const master of masters) await master.start();
      await sleep(3500);
    } finally {
      for (const master of masters) await master.stop();
      for (const store of stores) await within("end of store.close()", store.close());
    }
    assert.equal(new Set(rotated).size, rotated.length, `rotated twice: ${rotated}`);
    // After the start-up catch-up (the fast master jumps 3 s ahead), it rotates each boundary 3 s
    // early and the correct one finds it done.
    const sorted = [...rotated].sort().slice(1);
    assert.ok(sorted.length >= 3, `${rotated}`);
    for (let i = 1; i < sorted.length; i++) assert.equal(sorted[i] - sorted[i - 1], 1);
  }));

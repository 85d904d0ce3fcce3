/**
 * Master failover: several `ecl master` processes, the leader killed with SIGKILL again and again.
 * Every boundary must be rotated exactly once and on time.
 */
import assert from "node:assert/strict";
import { spawnScript, writeConfig } from "./_process.ts";
import { withRedis } from "./_redis.ts";
import { sleep } from "./_wait.ts";

/** Long enough for 3 leader kills even when each lease lapses only after its full TTL (9 s). */
const BOUNDARIES = 30;
const KILL_EVERY_MS = 2600;
/** Latest acceptable rotation after its boundary: standby delay (250 ms) + lease check + polling. */
const ON_TIME_MS = 800;

Deno.test("ecl master failover: killing leaders at random, every boundary rotates once, on time", () =>
  withRedis(async (server) => {
    const config = await writeConfig(
      `redis: {host: 127.0.0.1, port: ${server.port}}\ngroups:\n  g:\n    events: [a]\n    intervals: [1s]\n`,
    );
    const raw = await server.client();
    const start = () => spawnScript("cli.ts", ["master", config, "-v"]);
    const masters = [start(), start(), start()];
    const finished: Promise<Deno.CommandOutput>[] = [];
    const observed: { ts: number; at: number }[] = [];
    const end = Date.now() + (BOUNDARIES + 2) * 1000;
    let nextKill = Date.now() + KILL_EVERY_MS;
    let kills = 0;
    try {
      while (Date.now() < end) {
        const ts = Number(await raw.get("g:1s:cur:@ts"));
        if (ts > 0 && ts !== observed.at(-1)?.ts) observed.push({ ts, at: Date.now() });
        if (Date.now() >= nextKill) {
          const holder = await raw.get("@ecl:master");
          const pid = Number(holder?.split(":").at(-2));
          const leader = masters.findIndex((master) => master.pid === pid);
          // No holder after a kill until the lease lapses (9 s TTL): standbys rotate meanwhile.
          if (leader >= 0) {
            masters[leader].kill("SIGKILL");
            finished.push(masters[leader].output());
            masters[leader] = start();
            kills++;
            nextKill = Date.now() + KILL_EVERY_MS * (0.5 + Math.random());
          }
        }
        await sleep(20);
      }
    } finally {
      for (const master of masters) {
        master.kill("SIGTERM");
        finished.push(master.output());
      }
    }
    const outputs = await Promise.all(finished);
    await Deno.remove(config);

    assert.ok(kills >= 3, `only ${kills} leaders killed`);
    // Every boundary after the first observation, none skipped (@ts moves by exactly 1 s).
    const steady = observed.slice(1);
    assert.ok(steady.length >= BOUNDARIES, `${steady.length} rotations seen`);
    for (let i = 1; i < steady.length; i++) {
      assert.equal(steady[i].ts - steady[i - 1].ts, 1, JSON.stringify(steady.slice(i - 1, i + 1)));
    }
    const lateness = steady.map(({ ts, at }) => at - ts * 1000);
    const worst = Math.max(...lateness);
    assert.ok(worst < ON_TIME_MS, `a rotation came ${worst} ms after its boundary`);
    // No boundary rotated twice, by any master, killed or not.
    const rotated = outputs.flatMap((output) =>
      new TextDecoder().decode(output.stderr).split("\n")
        .map((line) => /^ecl: rotated g:1s at (\S+):/.exec(line)?.[1])
        .filter((at) => at !== undefined)
    );
    assert.equal(new Set(rotated).size, rotated.length, "a boundary was rotated twice");
    console.log(
      `failover: ${kills} leaders killed, ${steady.length} boundaries, worst lateness ${worst} ms, ` +
        `median ${lateness.sort((a, b) => a - b)[lateness.length >> 1]} ms`,
    );
  }));

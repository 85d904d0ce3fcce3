// The library built for Node.js (dist/, from `npm run build`) against a real redis-server: two
// Node processes log, an `ecl master` (the Deno CLI) rotates, and Node reads exact counts.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { EventCountLogger, parseInterval, VERSION } from "../dist/mod.js";

const run = promisify(execFile);
const ROOT = new URL("../..", import.meta.url).pathname;
const PER_PROCESS = 100_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(dir) {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir], {
    stdio: "ignore",
  });
  for (let i = 0; i < 500; i++) {
    const up = await new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (up) break;
    await sleep(10);
  }
  return { port, stop: () => child.kill("SIGTERM") };
}

test("the Node build exports the library", () => {
  assert.equal(parseInterval("5m"), 300);
  assert.match(VERSION, /^\d+\.\d+\.\d+$/);
});

test("two Node processes log, ecl master rotates, Node reads exact counts", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ecl-node-"));
  const redis = await startRedis(dir);
  const config = join(dir, "ecl.yml");
  await writeFile(
    config,
    `redis: {host: 127.0.0.1, port: ${redis.port}}\ngroups:\n  node:\n    events: [a, b, c, d]\n    intervals: [1s, 1h]\n`,
  );
  const master = spawn("deno", ["run", "-A", "--quiet", join(ROOT, "cli.ts"), "master", config], {
    stdio: "ignore",
    env: { ...process.env, RUST_BACKTRACE: "0" },
  });
  const ecl = await EventCountLogger.fromFile(config);
  const group = ecl.getGroup("node");
  try {
    await ecl.ready();
    await sleep(1000); // the master starts and rotates once (catch-up)
    await Promise.all([1, 2].map(() => run("node", ["test/_logger.mjs", config, String(PER_PROCESS)])));
    await sleep(1500); // a few 1 s rotations
    const current = await group.getCounts("1h", { current: true });
    const last = await group.getCounts("1h");
    for (const event of ["a", "b", "c", "d"]) {
      // Everything is in the 1 h interval: in cur, or in last if an hour boundary passed.
      assert.equal(current[event] + last[event], (2 * PER_PROCESS) / 4, event);
    }
    // The master rotates the 1 s interval: what the loggers wrote has left its cur.
    assert.deepEqual(await group.getCounts("1s", { current: true }), { a: 0, b: 0, c: 0, d: 0 });
  } finally {
    master.kill("SIGTERM");
    await ecl.close();
    redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

/** `promise`, or a failure naming `what` after `ms` milliseconds. */
function within(what, ms, promise) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

test("closeOnSignals() under Node: SIGTERM writes the cached counts, then ends the process", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ecl-node-"));
  const redis = await startRedis(dir);
  const config = join(dir, "ecl.yml");
  await writeFile(
    config,
    `redis: {host: 127.0.0.1, port: ${redis.port}}\ngroups:\n  cached:\n    auto_declare_events: true\n    intervals: [1h]\n    sync_interval: 3600\n`,
  );
  const child = spawn("node", ["test/_signal_logger.mjs", config, "1000"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const ecl = await EventCountLogger.fromFile(config);
  try {
    const ready = new Promise((resolve) => child.stdout.once("data", (data) => resolve(String(data))));
    assert.equal(await within("the logger's ready line", 30_000, ready), "ready\n");
    child.kill("SIGTERM");
    assert.deepEqual(await within("the logger's exit", 30_000, exited), { code: null, signal: "SIGTERM" });
    const counts = await within("getCounts()", 30_000, ecl.getGroup("cached").getCounts("1h", { current: true }));
    assert.deepEqual(
      Object.fromEntries(Object.entries(counts).sort()),
      Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`e${i}`, 100])),
    );
  } finally {
    child.kill("SIGKILL");
    await ecl.close();
    redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

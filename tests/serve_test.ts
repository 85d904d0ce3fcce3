/**
 * `ecl serve`: the app in process (routes, methods, headers, Redis down, reads shared per path),
 * then one `ecl serve` process (HTTP, a Redis restart, SIGTERM) and a bad --listen.
 */
import assert from "node:assert/strict";
import { createApp, parseListen, type ServeApp } from "../lib/commands/serve.ts";
import { loadConfig } from "../lib/config.ts";
import { Store } from "../lib/store.ts";
import { assertValidExposition } from "./_promtool.ts";
import { runCli, spawnScript, writeConfig } from "./_process.ts";
import { type RedisServer, withRedis } from "./_redis.ts";
import { readUntil, waitFor, within } from "./_wait.ts";

const PASSWORD = "s3cret-do-not-leak";
const METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8";
const UP_0 =
  "# HELP ecl_redis_up Whether Redis answered the reads of this scrape in time (1) or not (0).\n" +
  "# TYPE ecl_redis_up gauge\necl_redis_up 0\n";

/** A running `ecl serve` child. */
interface Serving {
  readonly child: Deno.ChildProcess;
  /** `http://127.0.0.1:PORT`. */
  readonly base: string;
  /** Everything on stderr once the child has exited. */
  readonly stderr: Promise<string>;
}

/** Start `ecl serve CONFIG --listen 127.0.0.1:0` and wait for its "serving" line. */
async function startServe(config: string): Promise<Serving> {
  const child = spawnScript("cli.ts", ["serve", config, "--listen", "127.0.0.1:0"]);
  void child.stdout.cancel();
  const { match, text } = await readUntil(
    child.stderr,
    /^ecl: serving http:\/\/(127\.0\.0\.1:\d+)\/metrics$/m,
    `"serving" line from ecl serve`,
  );
  return { child, base: `http://${match[1]}`, stderr: text };
}

/** One request: status, headers and body text. */
async function request(
  url: string,
  method = "GET",
): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await fetch(url, { method });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** Wait until `/metrics` of `base` says `ecl_redis_up 1`; returns that body. */
async function waitForRedisUp(base: string): Promise<string> {
  let body = "";
  await waitFor(`ecl_redis_up 1 from ${base}/metrics`, async () => {
    body = (await request(`${base}/metrics`)).body;
    return /^ecl_redis_up 1$/m.test(body);
  }, { timeoutMs: 10_000, everyMs: 100 });
  return body;
}

/** Commands that Redis ran, by its `INFO commandstats`, but for INFO and CONFIG (the test's). */
function commandCalls(stats: string): number {
  return [...stats.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)]
    .filter(([, command]) => command !== "info" && command !== "config|resetstat")
    .reduce((sum, [, , count]) => sum + Number(count), 0);
}

/** One in-process request: status, headers and body text. */
async function ask(
  app: ServeApp,
  path: string,
  method = "GET",
): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await app.request(path, { method });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** Run `body` with the app of `ecl serve` for a config of `server`, its store connected. */
async function withApp(
  server: RedisServer,
  body: (app: ServeApp, config: string) => Promise<void>,
  password = false,
): Promise<void> {
  const config = await configFor(server, password);
  // As runServe makes it: reads fail at once while disconnected instead of waiting for Redis.
  const store = new Store((await loadConfig(config)).redis, { offlineQueue: false });
  try {
    await within("end of store.ready()", store.ready());
    await body(createApp(await loadConfig(config), store), config);
  } finally {
    await within("end of store.close()", store.close(true));
    await Deno.remove(config);
  }
}

function configFor(server: RedisServer, password = true): Promise<string> {
  return writeConfig(`redis:
  host: 127.0.0.1
  port: ${server.port}
${password ? `  password: ${PASSWORD}\n` : ""}groups:
  requests:
    events: [req1, req2]
    intervals: [5m]
`);
}

/** Nothing of the configuration but names: no password, no file path, no Redis address. */
function assertNoLeak(body: string, config: string, server: RedisServer): void {
  assert.ok(!body.includes(PASSWORD), body);
  assert.ok(!body.includes(config), body);
  assert.ok(!body.includes("ecl-config-"), body);
  assert.ok(!body.includes(String(server.port)), body);
}

Deno.test("serve app: /metrics is the Prometheus exposition, HEAD too, never a secret", () =>
  withRedis(async (server) => {
    const raw = await server.client({ password: PASSWORD });
    await raw.mSet({ "requests:5m:last:req1": "54", "requests:5m:cur:req2": "3" });
    await withApp(server, async (app, config) => {
      const metrics = await ask(app, "/metrics");
      assert.equal(metrics.status, 200);
      assert.equal(metrics.headers.get("content-type"), METRICS_TYPE);
      assert.equal(metrics.headers.get("cache-control"), "no-store");
      assert.match(
        metrics.body,
        /^ecl_events_last\{group="requests",interval="5m",event="req1"\} 54$/m,
      );
      assert.match(
        metrics.body,
        /^ecl_events_current\{group="requests",interval="5m",event="req2"\} 3$/m,
      );
      assert.match(metrics.body, /^ecl_redis_up 1$/m);
      await assertValidExposition(metrics.body);
      assertNoLeak(metrics.body, config, server);

      const head = await ask(app, "/metrics", "HEAD");
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-type"), METRICS_TYPE);
      // The query string is ignored.
      assert.equal((await ask(app, "/metrics?x=1")).status, 200);
    }, true);
  }, ["--requirepass", PASSWORD]));

Deno.test("serve app: /healthz, 404 for other paths, 405 with Allow for other methods", () =>
  withRedis((server) =>
    withApp(server, async (app) => {
      const health = await ask(app, "/healthz");
      assert.deepEqual([health.status, health.body], [200, "ok\n"]);
      assert.equal(health.headers.get("content-type"), "text/plain; charset=utf-8");
      assert.equal(health.headers.get("cache-control"), "no-store");
      assert.equal((await ask(app, "/healthz", "HEAD")).status, 200);

      for (const path of ["/metrics/", "/nope", "/healthz/x", "/api", "/api/nope"]) {
        const missing = await ask(app, path);
        assert.deepEqual([path, missing.status, missing.body], [path, 404, "not found\n"]);
        assert.equal(missing.headers.get("content-type"), "text/plain; charset=utf-8");
      }
      for (
        const [method, path] of [["POST", "/metrics"], ["DELETE", "/healthz"], ["PUT", "/metrics"]]
      ) {
        const wrong = await ask(app, path, method);
        assert.deepEqual([method, path, wrong.status], [method, path, 405]);
        assert.equal(wrong.headers.get("allow"), "GET, HEAD");
        assert.equal(wrong.body, "method not allowed\n");
      }
    })
  ));

Deno.test("serve app: Redis down gives ecl_redis_up 0 and a 503 health, without secrets", () =>
  withRedis(
    (server) =>
      withApp(server, async (app, config) => {
        await server.kill();
        const down = await ask(app, "/metrics");
        assert.equal(down.status, 200);
        assert.equal(down.body, UP_0);
        await assertValidExposition(down.body);
        const sick = await ask(app, "/healthz");
        assert.deepEqual([sick.status, sick.body], [503, "Redis does not answer\n"]);
        assertNoLeak(sick.body, config, server);
      }, true),
    ["--requirepass", PASSWORD],
  ));

Deno.test("serve app: requests while Redis is frozen share one read per path, down after 5 s", () =>
  withRedis((server) =>
    withApp(server, async (app) => {
      const raw = await server.client();
      await raw.configResetStat();
      assert.match((await ask(app, "/metrics")).body, /^ecl_redis_up 1$/m);
      assert.equal((await ask(app, "/healthz")).status, 200);
      const once = commandCalls(await raw.info("commandstats"));
      assert.ok(once > 0);
      await raw.configResetStat();
      server.pause();
      try {
        // Ten scrapes and five health checks: none turned away for being many, each answered
        // after the time-out (5 s) with Redis down.
        const metrics = Array.from({ length: 10 }, () => ask(app, "/metrics"));
        const health = Array.from({ length: 5 }, () => ask(app, "/healthz"));
        for (const response of await Promise.all(metrics)) {
          assert.deepEqual([response.status, response.body], [200, UP_0]);
        }
        for (const response of await Promise.all(health)) assert.equal(response.status, 503);
      } finally {
        server.resume();
      }
      // The frozen server was sent one read per path (as many commands as the pair above), not
      // one per request.
      let calls = 0;
      await waitFor("the reads sent to the frozen server, run", async () => {
        calls = commandCalls(await raw.info("commandstats"));
        return calls >= once;
      }, { timeoutMs: 10_000, everyMs: 50 });
      assert.equal(calls, once);
      await waitFor("ecl_redis_up 1 again", async () => {
        const metrics = await ask(app, "/metrics");
        return /^ecl_redis_up 1$/m.test(metrics.body);
      }, { timeoutMs: 10_000, everyMs: 100 });
      assert.equal((await ask(app, "/healthz")).status, 200);
    })
  ));

Deno.test("serve: one process serves over HTTP, through a Redis restart, until SIGTERM", () =>
  withRedis(async (server) => {
    const config = await configFor(server);
    const raw = await server.client({ password: PASSWORD });
    await raw.mSet({ "requests:5m:last:req1": "54" });
    const serving = await startServe(config);
    const { base } = serving;
    try {
      const metrics = await request(`${base}/metrics`);
      assert.equal(metrics.status, 200);
      assert.equal(metrics.headers.get("content-type"), METRICS_TYPE);
      assert.match(
        metrics.body,
        /^ecl_events_last\{group="requests",interval="5m",event="req1"\} 54$/m,
      );
      assertNoLeak(metrics.body, config, server);
      assert.deepEqual(
        [(await request(`${base}/healthz`)).status, (await request(`${base}/nope`)).status],
        [200, 404],
      );

      // Redis down: /metrics still answers, with ecl_redis_up 0 and no counters.
      await server.kill();
      const down = await request(`${base}/metrics`);
      assert.equal(down.status, 200);
      assert.equal(down.body, UP_0);
      assert.equal((await request(`${base}/healthz`)).status, 503);

      // Redis back (empty: no persistence): the store reconnects by itself.
      await server.restart();
      const back = await waitForRedisUp(base);
      assert.match(back, /^ecl_events_last\{group="requests",interval="5m",event="req1"\} 0$/m);
      assert.equal((await request(`${base}/healthz`)).status, 200);
    } finally {
      serving.child.kill("SIGTERM");
    }
    const status = await serving.child.status;
    const stderr = await serving.stderr;
    assert.equal(status.code, 0, stderr);
    assert.match(stderr, /^ecl: serving http:\/\/127\.0\.0\.1:\d+\/metrics\n/);
    assert.match(stderr, /ecl: serve stopping \(SIGTERM\)\n$/);
    assert.ok(!stderr.includes(PASSWORD));
    await Deno.remove(config);
  }, ["--requirepass", PASSWORD]));

Deno.test("serve: --listen is HOST:PORT, [IPv6]:PORT or :PORT", () => {
  assert.deepEqual(parseListen("127.0.0.1:9464"), { hostname: "127.0.0.1", port: 9464 });
  assert.deepEqual(parseListen("localhost:0"), { hostname: "localhost", port: 0 });
  assert.deepEqual(parseListen("[::1]:9464"), { hostname: "::1", port: 9464 });
  assert.deepEqual(parseListen(":9464"), { hostname: "0.0.0.0", port: 9464 });
  for (
    const bad of ["9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "::1:9464", "a b:1", ""]
  ) {
    assert.throws(() => parseListen(bad), RangeError, bad);
  }
});

Deno.test("serve: a bad --listen or a busy port is one line on stderr and exit code 2", async () => {
  const config = await writeConfig("groups:\n  g:\n    intervals: [5m]\n");
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const bad = await runCli(["serve", config, "--listen", "127.0.0.1:99999"]);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr,
      'ERROR: Cannot listen on "127.0.0.1:99999": expected HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:9464\n',
    );
    assert.equal(bad.stdout, "");
    const port = (busy.addr as Deno.NetAddr).port;
    const taken = await runCli(["serve", config, "--listen", `127.0.0.1:${port}`]);
    assert.equal(taken.code, 2);
    assert.match(
      taken.stderr,
      new RegExp(`^ERROR: Cannot listen on 127\\.0\\.0\\.1:${port}: .+\n$`),
    );
  } finally {
    busy.close();
    await Deno.remove(config);
  }
});

/** `ecl serve`: /metrics and /healthz over HTTP, Redis outages, limits, signals, bad --listen. */
import assert from "node:assert/strict";
import { parseListen } from "../lib/commands/serve.ts";
import { assertValidExposition } from "./_promtool.ts";
import { runCli, spawnScript, writeConfig } from "./_process.ts";
import { type RedisServer, withRedis } from "./_redis.ts";
import { sleep } from "./_wait.ts";

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
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let match: RegExpExecArray | null = null;
  while ((match = /^ecl: serving http:\/\/(127\.0\.0\.1:\d+)\/metrics$/m.exec(text)) === null) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`ecl serve exited before serving: ${text}`);
    text += value;
  }
  const stderr = (async () => {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return text;
      text += value;
    }
  })();
  return { child, base: `http://${match[1]}`, stderr };
}

/** One request: status, headers and body text. */
async function request(
  url: string,
  method = "GET",
): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await fetch(url, { method });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** Poll `url` until `ok` holds for the response body (or fail after `timeoutMs`). */
async function waitFor(url: string, ok: (body: string) => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const { body } = await request(url);
    if (ok(body)) return body;
    if (Date.now() > deadline) throw new Error(`timed out waiting on ${url}; last:\n${body}`);
    await sleep(100);
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

Deno.test("serve: metrics and health over HTTP, through a Redis restart, until SIGTERM", () =>
  withRedis(async (server) => {
    const config = await configFor(server);
    const raw = await server.client({ password: PASSWORD });
    await raw.mSet({ "requests:5m:last:req1": "54", "requests:5m:cur:req2": "3" });
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
      assert.match(
        metrics.body,
        /^ecl_events_current\{group="requests",interval="5m",event="req2"\} 3$/m,
      );
      assert.match(metrics.body, /^ecl_redis_up 1$/m);
      await assertValidExposition(metrics.body);
      assertNoLeak(metrics.body, config, server);

      const head = await request(`${base}/metrics`, "HEAD");
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-type"), METRICS_TYPE);
      assert.equal(head.body, "");

      const health = await request(`${base}/healthz`);
      assert.deepEqual([health.status, health.body], [200, "ok\n"]);
      assert.equal((await request(`${base}/healthz`, "HEAD")).status, 200);

      for (const path of ["/", "/metrics/", "/nope", "/healthz/x"]) {
        const missing = await request(base + path);
        assert.deepEqual([path, missing.status, missing.body], [path, 404, "not found\n"]);
      }
      for (
        const [method, path] of [["POST", "/metrics"], ["DELETE", "/healthz"], ["PUT", "/metrics"]]
      ) {
        const wrong = await request(base + path, method);
        assert.equal(wrong.status, 405, `${method} ${path}`);
        assert.equal(wrong.headers.get("allow"), "GET, HEAD");
      }
      // The query string is ignored.
      assert.equal((await request(`${base}/metrics?x=1`)).status, 200);

      // Redis down: /metrics still answers, with ecl_redis_up 0 and no counters.
      await server.kill();
      const down = await request(`${base}/metrics`);
      assert.equal(down.status, 200);
      assert.equal(down.body, UP_0);
      await assertValidExposition(down.body);
      const sick = await request(`${base}/healthz`);
      assert.equal(sick.status, 503);
      assertNoLeak(sick.body, config, server);

      // Redis back (empty: no persistence): the store reconnects by itself.
      await server.restart();
      const back = await waitFor(`${base}/metrics`, (body) => /^ecl_redis_up 1$/m.test(body));
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

Deno.test("serve: requests while Redis is frozen share one read and say Redis is down after 5 s", () =>
  withRedis(async (server) => {
    const config = await configFor(server, false);
    const serving = await startServe(config);
    const { base } = serving;
    try {
      await waitFor(`${base}/metrics`, (body) => /^ecl_redis_up 1$/m.test(body));
      const raw = await server.client();
      await raw.configResetStat();
      server.pause();
      // Ten scrapes and five health checks: no 503 for being many, each waits at most 5 s.
      const metrics = Array.from({ length: 10 }, () => request(`${base}/metrics`));
      const health = Array.from({ length: 5 }, () => request(`${base}/healthz`));
      for (const response of await Promise.all(metrics)) {
        assert.equal(response.status, 200);
        assert.equal(response.body, UP_0);
      }
      for (const response of await Promise.all(health)) assert.equal(response.status, 503);
      server.resume();
      // The reads sent to the frozen server were one per path, not one per request.
      const stats = await raw.info("commandstats");
      const calls = [...stats.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)]
        .filter(([, command]) => command !== "info" && command !== "config")
        .reduce((sum, [, , count]) => sum + Number(count), 0);
      assert.ok(calls < 10, stats);
      await waitFor(`${base}/metrics`, (body) => /^ecl_redis_up 1$/m.test(body));
      assert.equal((await request(`${base}/healthz`)).status, 200);
    } finally {
      server.resume();
      serving.child.kill("SIGINT");
    }
    assert.equal((await serving.child.status).code, 0, await serving.stderr);
    await Deno.remove(config);
  }));

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

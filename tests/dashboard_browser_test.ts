/**
 * The dashboard in a real browser: `ecl serve` and `ecl master` from the CLI bundle, with the
 * binaries' permissions, against a real redis-server with logged counts; headless Chromium opens
 * `/`. Checks that the numbers shown are those in Redis, that a chart appears and its hover value
 * is the count Redis had for that period, that hostile event IDs stay text (no dialog, no injected
 * element), that the page asks no other host, pauses while hidden and says when no master rotates
 * and when Redis is down. Skipped, with the reason printed, where there is no Chromium.
 *
 * `ECL_SCREENSHOT=1` also writes the screenshot for the README to docs/dashboard.png.
 */
import assert from "node:assert/strict";
import { PERMISSIONS } from "../scripts/_permissions.ts";
import { bundleCli } from "../scripts/bundle.ts";
import { Browser, findChromium } from "./_chromium.ts";
import { denoCommand, finish } from "./_process.ts";
import { type RawClient, withRedis } from "./_redis.ts";
import { readUntil, sleep, waitFor, within } from "./_wait.ts";

const chromium = findChromium();
if ("missing" in chromium) console.log(`dashboard_browser_test: skipped: ${chromium.missing}`);

const HOSTILE = [
  `<img src=x onerror=alert(1)>`,
  `"><script>window.__injected=1</script>`,
  `<svg onload=alert(2)>`,
  `' onmouseover='alert(3)`,
];
const ROOT = new URL("..", import.meta.url).pathname;

/** `deno run` of the bundle with the binaries' permissions, outside the repository. */
function bundleCommand(bundle: string, dir: string, args: string[]): Deno.Command {
  return denoCommand(["run", "--quiet", "--no-config", ...PERMISSIONS, bundle, ...args], {
    cwd: dir,
  });
}

/** Start `ecl serve` from the bundle and wait for its URL. */
async function startServe(bundle: string, dir: string, config: string) {
  const child = bundleCommand(bundle, dir, ["serve", config, "--listen", "127.0.0.1:0"]).spawn();
  void child.stdout.cancel();
  const { match } = await readUntil(
    child.stderr,
    /^ecl: dashboard on (http:\/\/127\.0\.0\.1:\d+)\/$/m,
    `"dashboard on" line from ecl serve`,
  );
  return { child, base: match[1] };
}

/** The rows of the table of `slot` (0 last, 1 current) of a (group, interval) card. */
function rowsOf(browser: Browser, group: string, interval: string, slot: 0 | 1) {
  return browser.evaluate(`(() => {
    const card = [...document.querySelectorAll(".interval")].find((c) =>
      c.dataset.group === ${JSON.stringify(group)} && c.dataset.interval === ${
    JSON.stringify(interval)
  });
    if (!card) return null;
    const table = card.querySelectorAll(".slot tbody")[${slot}];
    return [...table.rows].map((r) => [r.cells[0].textContent, r.cells[1].textContent]);
  })()`) as Promise<[string, string][] | null>;
}

function alertsText(browser: Browser): Promise<string> {
  return browser.evaluate(`document.getElementById("alerts").textContent`);
}

/** Count requests to /api/counts during `ms`. */
async function countsRequests(browser: Browser, ms: number): Promise<number> {
  const from = browser.events.length;
  await sleep(ms);
  return browser.events.slice(from).filter((e) =>
    e.method === "Network.requestWillBeSent" && e.params.request.url.includes("/api/counts")
  ).length;
}

/** The truth for the chart: `ticks:1s:last` of every period that Redis showed, read every 100 ms. */
function recordTruth(raw: RawClient, stop: AbortSignal): Map<number, number> {
  const truth = new Map<number, number>();
  (async () => {
    while (!stop.aborted) {
      const [start, count] = await raw.mGet(["ticks:1s:last:@ts", "ticks:1s:last:a"]);
      // `<start>/<end>` (see lib/layouts/python.ts)
      if (start !== null) truth.set(Number(start.split("/")[0]), Number(count ?? 0));
      await sleep(100);
    }
  })().catch(() => {});
  return truth;
}

Deno.test({
  name: "dashboard in Chromium: Redis's numbers, a chart with hover values, hostile IDs as text",
  ignore: "missing" in chromium,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withRedis(async (server) => {
      const dir = await Deno.makeTempDir({ prefix: "ecl-dashboard-" });
      const bundle = await bundleCli(`${dir}/ecl.js`);
      const config = `${dir}/ecl.yml`;
      await Deno.writeTextFile(
        config,
        `redis:
  host: 127.0.0.1
  port: ${server.port}
groups:
  requests:
    events: [req1, req2, req3]
    intervals: [1h]
  ticks:
    events: [a, b]
    intervals: [1s]
  hostile:
    auto_declare_events: true
    intervals: [1h]
`,
      );
      const run = async (args: string[]) => {
        const result = await finish(bundleCommand(bundle, dir, args));
        assert.equal(result.code, 0, result.stderr);
      };
      const master = bundleCommand(bundle, dir, ["master", config]).spawn();
      const raw = await server.client();
      // The master's first rotation starts the hour: log after it.
      await waitFor("the master's first rotation", async () =>
        (await raw.mGet(["requests:1h:cur:@ts", "hostile:1h:cur:@ts"])).every((v) =>
          v !== null
        ), {
        timeoutMs: 30_000,
        everyMs: 100,
      });
      await run(["log", config, "requests", "req1", "5"]);
      await run(["log", config, "requests", "req2", "3"]);
      for (const [index, id] of HOSTILE.entries()) {
        await run(["log", config, "hostile", id, String(index + 1)]);
      }
      const serve = await startServe(bundle, dir, config);
      const stopTicks = new AbortController();
      const truth = recordTruth(raw, stopTicks.signal);
      // a: 1 to 5 counts every 300 ms, b: 1, so that periods differ.
      (async () => {
        for (let i = 0; !stopTicks.signal.aborted; i++) {
          await raw.incrBy("ticks:1s:cur:a", 1 + (i % 5));
          await raw.incrBy("ticks:1s:cur:b", 1);
          await sleep(300);
        }
      })().catch(() => {});
      const browser = await Browser.launch((chromium as { path: string }).path);
      try {
        await browser.call("Page.enable");
        await browser.call("Runtime.enable");
        await browser.call("Network.enable");
        await browser.call("Page.navigate", { url: `${serve.base}/` });

        // The numbers shown are those in Redis, sorted by count, predeclared zeros included.
        await waitFor("req1 in the dashboard", async () => {
          const rows = await rowsOf(browser, "requests", "1h", 1);
          return rows !== null && rows.length === 3;
        }, { timeoutMs: 30_000, everyMs: 200 });
        const [req1, req2, req3] = await raw.mGet([
          "requests:1h:cur:req1",
          "requests:1h:cur:req2",
          "requests:1h:cur:req3",
        ]);
        assert.deepEqual([req1, req2, req3], ["5", "3", "0"]);
        assert.deepEqual(await rowsOf(browser, "requests", "1h", 1), [
          ["req1", req1],
          ["req2", req2],
          ["req3", req3],
        ]);

        // Hostile IDs: the same text, in count order; nothing injected, no dialog.
        const hostileRows = await rowsOf(browser, "hostile", "1h", 1);
        const expected = await Promise.all(
          HOSTILE.map(async (id) => [id, await raw.get(`hostile:1h:cur:${id}`)]),
        );
        assert.deepEqual(hostileRows, expected.reverse());
        const injected = await browser.evaluate(`({
          images: document.querySelectorAll("img").length,
          svgs: document.querySelectorAll("body > svg, main svg").length,
          scripts: [...document.scripts].map((s) => s.getAttribute("src")),
          injected: typeof window.__injected,
          handlers: [...document.querySelectorAll("*")].filter((e) =>
            [...e.attributes].some((a) => a.name.startsWith("on"))).length,
        })`);
        assert.deepEqual(injected, {
          images: 0,
          svgs: 0,
          scripts: ["/dashboard.js"],
          injected: "undefined",
          handlers: 0,
        });

        // The filter box of an auto-declared group: typed text narrows the list (done by ecl serve).
        await browser.evaluate(`[...document.querySelectorAll(".interval")]
          .find((c) => c.dataset.group === "hostile").querySelector("input").focus()`);
        await browser.call("Input.insertText", { text: "SVG" });
        await waitFor("the filtered list of hostile IDs", async () => {
          const rows = await rowsOf(browser, "hostile", "1h", 1);
          return rows?.length === 1 && rows[0][0] === HOSTILE[2];
        }, { timeoutMs: 10_000, everyMs: 100 });
        const distinct = await browser.evaluate(`[...document.querySelectorAll(".interval")]
          .find((c) => c.dataset.group === "hostile").querySelector(".distinct").textContent`);
        assert.equal(distinct, `0 distinct events last period · ${HOSTILE.length} now`);
        await browser.evaluate(`(() => {
          const input = [...document.querySelectorAll(".interval")]
            .find((c) => c.dataset.group === "hostile").querySelector("input");
          input.value = "";
          input.dispatchEvent(new Event("input"));
        })()`);
        await waitFor("the whole list of hostile IDs again", async () =>
          (await rowsOf(browser, "hostile", "1h", 1))?.length === HOSTILE.length, {
          timeoutMs: 10_000,
          everyMs: 100,
        });

        // A chart after a few periods; its hover value is Redis's count of the period shown.
        await waitFor("a chart of ticks with 4 periods", () =>
          browser.evaluate(`(() => {
            const card = [...document.querySelectorAll(".interval")].find((c) => c.dataset.group === "ticks");
            return !!card?.querySelector(".uplot canvas") &&
              card.querySelectorAll(".u-legend .u-series").length >= 3;
          })()`), { timeoutMs: 30_000, everyMs: 250 });
        await waitFor("4 finished periods of ticks in Redis", () =>
          Promise.resolve(truth.size >= 4), {
          timeoutMs: 30_000,
          everyMs: 200,
        });
        const over = await browser.evaluate(`(() => {
          const card = [...document.querySelectorAll(".interval")].find((c) => c.dataset.group === "ticks");
          card.scrollIntoView();
          const r = card.querySelector(".u-over").getBoundingClientRect();
          return { x: r.right - 2, y: r.top + r.height / 2 };
        })()`);
        await browser.call("Input.dispatchMouseEvent", {
          type: "mouseMoved",
          x: over.x,
          y: over.y,
        });
        let hovered: { time: string; a: string } | undefined;
        await waitFor("a hover value of a period Redis showed", async () => {
          await browser.call("Input.dispatchMouseEvent", {
            type: "mouseMoved",
            x: over.x - 1,
            y: over.y,
          });
          hovered = await browser.evaluate(`(() => {
            const card = [...document.querySelectorAll(".interval")].find((c) => c.dataset.group === "ticks");
            const rows = [...card.querySelectorAll(".u-legend .u-series")];
            const value = (label) => rows.find((r) => r.querySelector(".u-label").textContent === label)
              ?.querySelector(".u-value").textContent;
            return { time: rows[0].querySelector(".u-value").textContent, a: value("a") };
          })()`);
          const start = [...truth.keys()].find((s) =>
            new Date(s * 1000).toISOString().slice(11, 19) === hovered!.time
          );
          return Promise.resolve(start !== undefined);
        }, { timeoutMs: 10_000, everyMs: 200 });
        const start = [...truth.keys()].find((s) =>
          new Date(s * 1000).toISOString().slice(11, 19) === hovered!.time
        )!;
        assert.equal(hovered!.a, String(truth.get(start)), `hover at ${hovered!.time}`);
        assert.ok(truth.get(start)! > 0);

        if (Deno.env.get("ECL_SCREENSHOT") === "1") {
          // For the README: a fuller chart, the whole page, a hovered period.
          await waitFor("20 periods of ticks in the history", () =>
            browser.evaluate(`fetch("/api/history?group=ticks").then((r) => r.json())
              .then((d) => d.intervals[0].periods.length >= 20)`), {
            timeoutMs: 60_000,
            everyMs: 500,
          });
          await sleep(1500);
          const height = await browser.evaluate(`document.documentElement.scrollHeight`);
          await browser.call("Emulation.setDeviceMetricsOverride", {
            width: 1280,
            height,
            deviceScaleFactor: 1,
            mobile: false,
          });
          await browser.evaluate(`window.scrollTo(0, 0)`);
          const middle = await browser.evaluate(`(() => {
            const card = [...document.querySelectorAll(".interval")].find((c) => c.dataset.group === "ticks");
            const r = card.querySelector(".u-over").getBoundingClientRect();
            return { x: r.left + r.width * 0.6, y: r.top + r.height / 2 };
          })()`);
          await browser.call("Input.dispatchMouseEvent", { type: "mouseMoved", ...middle });
          const shot = await browser.call("Page.captureScreenshot", { format: "png" });
          await browser.call("Emulation.clearDeviceMetricsOverride");
          await Deno.writeFile(
            `${ROOT}docs/dashboard.png`,
            Uint8Array.from(atob(shot.data), (c) =>
              c.charCodeAt(0)),
          );
        }

        // Hidden tab: no requests; visible again: requests resume.
        await browser.evaluate(
          `Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
          document.dispatchEvent(new Event("visibilitychange"))`,
        );
        await sleep(300);
        assert.equal(await countsRequests(browser, 2500), 0, "requests while hidden");
        await browser.evaluate(
          `Object.defineProperty(document, "hidden", { configurable: true, get: () => false });
          document.dispatchEvent(new Event("visibilitychange"))`,
        );
        assert.ok((await countsRequests(browser, 2500)) >= 1, "requests once visible");

        // No master: the dashboard says so once the 1 s period is overdue.
        master.kill("SIGTERM");
        await master.status;
        await waitFor("the no-master alert", async () =>
          /No master rotates the counters: not rotated: ticks 1s since/.test(
            await alertsText(browser),
          ), {
          timeoutMs: 30_000,
          everyMs: 250,
        });
        // Redis down: the dashboard says so.
        stopTicks.abort();
        await server.kill();
        await waitFor("the Redis-down alert", async () =>
          /^Redis is down/.test(await alertsText(browser)), {
          timeoutMs: 30_000,
          everyMs: 250,
        });

        // Only this server was asked; no dialog ever opened.
        const urls = browser.events.filter((e) =>
          e.method === "Network.requestWillBeSent"
        )
          .map((e) =>
            e.params.request.url as string
          );
        assert.ok(urls.length > 3);
        assert.deepEqual(
          urls.filter((url) =>
            !url.startsWith(`${serve.base}/`)
          ),
          [],
        );
        assert.deepEqual(
          browser.events.filter((e) =>
            e.method === "Page.javascriptDialogOpening"
          ),
          [],
        );
        const errors = browser.events.filter((e) =>
          e.method === "Runtime.exceptionThrown"
        );
        assert.deepEqual(errors, []);
      } finally {
        stopTicks.abort();
        await within("end of browser.close()", browser.close());
        try {
          master.kill("SIGTERM");
        } catch {
          // already stopped
        }
        await master.status;
        serve.child.kill("SIGTERM");
        await serve.child.status;
        await Deno.remove(dir, { recursive: true });
      }
    }),
});

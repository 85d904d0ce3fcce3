/**
 * The ways to import the library that the README's Library section names, from a Deno project
 * outside this repository (its own deno.json, no import map of ours): `mod.ts` by path and by
 * URL. The npm build is tested by npm/test/; JSR (`jsr:@ecl/ecl`) applies deno.json's import map
 * for its users, and `deno publish --dry-run` checks the package (`.ci/run`).
 */
import assert from "node:assert/strict";
import { VERSION } from "../lib/version.ts";
import { denoCommand, finish } from "./_process.ts";
import { freePort, withRedis } from "./_redis.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** A program that logs through the library and reads the count back. */
const program = (specifier: string) =>
  `import { EventCountLogger, VERSION } from ${JSON.stringify(specifier)};

const ecl = new EventCountLogger(
  { web: { events: ["home"], intervals: ["1h"] } },
  { host: "127.0.0.1", port: Number(Deno.args[0]) },
);
const web = ecl.getGroup("web")!;
web.log("home", 3);
await ecl.flush();
console.log(VERSION, JSON.stringify(await web.getCounts("1h", { current: true })));
await ecl.close();
`;

/** A Deno project in a temporary directory: deno.json and main.ts importing `specifier`. */
async function project(specifier: (dir: string) => string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ecl-consumer-" });
  await Deno.writeTextFile(`${dir}/deno.json`, "{}\n");
  await Deno.writeTextFile(`${dir}/main.ts`, program(specifier(dir)));
  return dir;
}

/** A relative path from `from` to `to` (both absolute directories or files). */
function relative(from: string, to: string): string {
  const a = from.split("/").filter(Boolean);
  const b = to.split("/").filter(Boolean);
  let common = 0;
  while (common < a.length && a[common] === b[common]) common++;
  return [...a.slice(common).map(() => ".."), ...b.slice(common)].join("/");
}

Deno.test("import: mod.ts by path from another Deno project type-checks and counts", () =>
  withRedis(async (server) => {
    const dir = await project((dir) => relative(dir, `${ROOT}mod.ts`));
    try {
      const check = await finish(denoCommand(["check", "--quiet", "main.ts"], { cwd: dir }));
      assert.equal(check.code, 0, check.stderr);
      const run = await finish(
        denoCommand(["run", "-A", "--quiet", "main.ts", String(server.port)], { cwd: dir }),
      );
      assert.deepEqual([run.code, run.stdout], [0, `${VERSION} {"home":3}\n`], run.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }));

Deno.test("import: mod.ts by URL from another Deno project counts", () =>
  withRedis(async (server) => {
    // This checkout served over HTTP, as a raw file host would serve it.
    const port = await freePort();
    const files = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (request) => {
      const path = decodeURIComponent(new URL(request.url).pathname);
      if (path.includes("..")) return new Response("bad path\n", { status: 400 });
      try {
        const body = await Deno.readFile(ROOT + path.slice(1));
        return new Response(body, { headers: { "content-type": "application/typescript" } });
      } catch {
        return new Response("not found\n", { status: 404 });
      }
    });
    const dir = await project(() => `http://127.0.0.1:${port}/mod.ts`);
    try {
      const run = await finish(
        denoCommand(
          ["run", "-A", "--quiet", "--reload=http://127.0.0.1", "main.ts", String(server.port)],
          { cwd: dir },
        ),
      );
      assert.deepEqual([run.code, run.stdout], [0, `${VERSION} {"home":3}\n`], run.stderr);
    } finally {
      await files.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  }));

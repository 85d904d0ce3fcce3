// The packed npm build (`npm pack`) in a consumer project: its type declarations compile with
// `tsc --strict --module nodenext`, without @types/node and with it. Uses this folder's
// typescript and @types/node; `npm install` of the tarball takes its dependencies from the npm
// cache (or registry).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const NPM_DIR = new URL("..", import.meta.url).pathname;
const TSC = join(NPM_DIR, "node_modules", "typescript", "bin", "tsc");
const TYPES_NODE = join(NPM_DIR, "node_modules", "@types", "node");

const GOOD = `import { ConfigError, EventCountLogger, parseInterval, type CloseOptions } from "@ecl/ecl";

const ecl = new EventCountLogger(
  { web: { events: ["home"], intervals: ["5m"] } },
  { host: "127.0.0.1", port: 6379 },
  { onWarning: (message: string) => console.error(message) },
);
const remove: () => void = ecl.closeOnSignals(["SIGINT", "SIGTERM"]);
const logged: boolean | undefined = ecl.getGroup("web")?.log("home", 2);
const seconds: number = parseInterval("5m");
const options: CloseOptions = { timeoutMs: 1000 };
remove();
await ecl.close(options);
console.log(logged, seconds, (new Error("x") as unknown) instanceof ConfigError);
`;
// A use the declarations must refuse: they are checked, not \`any\`.
const BAD = `import { EventCountLogger } from "@ecl/ecl";

new EventCountLogger({ web: { intervals: ["5m"] } }).closeOnSignals(["SIGKILL"]);
`;

/** `tsc --strict --module nodenext` of the consumer's files: its exit code and output. */
async function typeCheck(dir) {
  try {
    const { stdout } = await run(
      process.execPath,
      [TSC, "--strict", "--module", "nodenext", "--target", "es2022", "--noEmit", "good.ts", "bad.ts"],
      { cwd: dir },
    );
    return { code: 0, output: stdout };
  } catch (error) {
    return { code: error.code, output: `${error.stdout}${error.stderr}` };
  }
}

/** Every error is the one in bad.ts: good.ts and the declarations compile. */
function assertOnlyTheBadCall(result) {
  const errors = result.output.split("\n").filter((line) => /error TS\d+/.test(line));
  assert.equal(errors.length, 1, result.output);
  assert.match(errors[0], /^bad\.ts\(3,\d+\): error TS2322: Type '"SIGKILL"' is not assignable/);
  assert.equal(result.code, 2, result.output);
}

test("the packed build's types compile in a strict nodenext project, with and without @types/node", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ecl-npm-consumer-"));
  try {
    const packed = await run("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: NPM_DIR });
    const tarball = packed.stdout.trim().split("\n").pop();
    await writeFile(
      join(dir, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    await writeFile(join(dir, "good.ts"), GOOD);
    await writeFile(join(dir, "bad.ts"), BAD);
    await run(
      "npm",
      ["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefer-offline", `./${tarball}`],
      { cwd: dir },
    );
    await assert.rejects(stat(join(dir, "node_modules", "@types")), { code: "ENOENT" });
    assertOnlyTheBadCall(await typeCheck(dir));

    await mkdir(join(dir, "node_modules", "@types"));
    await symlink(TYPES_NODE, join(dir, "node_modules", "@types", "node"), "dir");
    assertOnlyTheBadCall(await typeCheck(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/**
 * scripts/setup, the README's quick start and .ci/run's installer, on simulated machines: a PATH
 * of stub commands (deno, node, npm, apt-get, id, the Debian tools) that record how they were
 * called, so nothing is installed for real.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;
const SETUP = `${ROOT}scripts/setup`;
/** Real tools that the script and the stubs use. */
const REAL = ["bash", "env", "head", "cut", "chmod"];
/** A command of each Debian package in scripts/setup, by package. */
const TOOLS: Record<string, string> = {
  "redis-server": "redis-server",
  "redis-tools": "redis-cli",
  openssl: "openssl",
  prometheus: "promtool",
  chromium: "chromium",
};

interface Machine {
  bin: string;
  /** Calls of npm and apt-get, one line each. */
  calls(): Promise<string[]>;
  run(args: string[]): Promise<{ code: number; stderr: string; stdout: string }>;
}

/**
 * A machine with Node 20, npm, and `have` of the commands; root when `root`. apt-get and
 * `npm install -g deno@…` "install" by adding stubs.
 */
async function machine(have: string[], root: boolean): Promise<Machine> {
  const bin = await Deno.makeTempDir({ prefix: "ecl-setup-" });
  const log = `${bin}/calls.log`;
  const stub = (name: string, body: string) =>
    Deno.writeTextFile(`${bin}/${name}`, `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  for (const tool of REAL) {
    await Deno.symlink(
      new TextDecoder().decode(
        (await new Deno.Command("bash", { args: ["-c", `command -v ${tool}`] }).output()).stdout,
      ).trim(),
      `${bin}/${tool}`,
    );
  }
  const deno = (version: string) => `echo "deno ${version} (stable, release, x86_64)"`;
  await stub("id", `echo ${root ? 0 : 1000}`);
  await stub("node", `echo 20`);
  await stub(
    "npm",
    `echo "npm $*" >>'${log}'\n` +
      `case "$*" in "install -g deno@"*) v=\${3#deno@}; v=\${v%% *}; printf '#!/bin/bash\\necho "deno %s (stable)"\\n' "$v" >'${bin}/deno'; chmod +x '${bin}/deno';; esac`,
  );
  await stub(
    "apt-get",
    `echo "apt-get $*" >>'${log}'\nfor package in "$@"; do case $package in\n` +
      Object.entries(TOOLS).map(([pkg, tool]) =>
        `  ${pkg}) printf '#!/bin/bash\\n' >'${bin}/${tool}'; chmod +x '${bin}/${tool}';;\n`
      ).join("") + "esac; done",
  );
  // munin-run is also looked for in /usr/sbin, which a test cannot hide: always there.
  for (const command of ["munin-run", ...have]) {
    if (command.startsWith("deno ")) await stub("deno", deno(command.slice(5)));
    else await stub(command, "exit 0");
  }
  return {
    bin,
    calls: async () => (await Deno.readTextFile(log).catch(() => "")).split("\n").filter(Boolean),
    run: async (args) => {
      const output = await new Deno.Command(`${bin}/bash`, {
        args: [SETUP, ...args],
        clearEnv: true,
        env: { PATH: bin },
        stdin: "null",
      }).output();
      const decoder = new TextDecoder();
      return {
        code: output.code,
        stdout: decoder.decode(output.stdout),
        stderr: decoder.decode(output.stderr),
      };
    },
  };
}

const EVERYTHING = ["deno 2.9.6", "redis-server", "redis-cli", "openssl", "promtool", "chromium"];

Deno.test("setup: nothing missing: silent, exit 0, nothing installed", async () => {
  const m = await machine(EVERYTHING, true);
  assert.deepEqual(await m.run([]), { code: 0, stdout: "", stderr: "" });
  assert.deepEqual(await m.run(["--ci"]), { code: 0, stdout: "", stderr: "" });
  assert.deepEqual(await m.calls(), []);
  await Deno.remove(m.bin, { recursive: true });
});

Deno.test("setup: a fresh Debian machine as root: Deno from npm, the packages from apt-get", async () => {
  const m = await machine([], true);
  const result = await m.run([]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stderr,
    "setup: installing Deno 2.9.6: npm install -g deno@2.9.6\n" +
      "setup: installing redis-server redis-tools openssl prometheus chromium from Debian's packages\n",
  );
  assert.deepEqual(await m.calls(), [
    "npm install -g deno@2.9.6 --no-audit --no-fund --loglevel=error",
    "apt-get update -qq",
    "apt-get install -y -qq --no-install-recommends redis-server redis-tools openssl prometheus chromium",
  ]);
  // Now ready: a second run does nothing.
  assert.deepEqual(await m.run([]), { code: 0, stdout: "", stderr: "" });
  await Deno.remove(m.bin, { recursive: true });
});

Deno.test("setup: what cannot be installed stops it at once with one line naming how", async () => {
  // Not root: apt-get is not run.
  const user = await machine(["deno 2.9.6", "openssl"], false);
  assert.deepEqual(await user.run([]), {
    code: 1,
    stdout: "",
    stderr:
      "setup: missing redis-server redis-tools (and optional prometheus chromium): install as root: " +
      "apt-get install -y --no-install-recommends redis-server redis-tools prometheus chromium\n",
  });
  // The demo needs redis-server only, and not even that with ECL_REDIS_URL.
  assert.equal(
    (await user.run(["demo"])).stderr,
    "setup: missing redis-server: install as root: apt-get install -y --no-install-recommends redis-server\n",
  );
  assert.deepEqual(await user.calls(), []);
  await Deno.remove(user.bin, { recursive: true });

  // --check (what `deno task test` starts with) installs nothing, even as root.
  const root = await machine([], true);
  assert.deepEqual(await root.run(["--check"]), {
    code: 1,
    stdout: "",
    stderr: "setup: Deno 2 is missing: npm install -g deno@2.9.6\n",
  });
  assert.deepEqual(await root.calls(), []);
  await Deno.remove(root.bin, { recursive: true });

  // Only optional tools missing: the tests run without them; a note, exit 0.
  const optional = await machine(EVERYTHING.filter((c) => c !== "promtool"), false);
  assert.deepEqual(await optional.run([]), {
    code: 0,
    stdout: "",
    stderr:
      "setup: optional: prometheus not installed, the tests check without them (as root: apt-get install -y --no-install-recommends prometheus)\n",
  });
  assert.equal((await optional.run(["--ci"])).code, 0, "--ci as well");
  await Deno.remove(optional.bin, { recursive: true });
});

Deno.test("setup: --ci pins Deno's version; otherwise any Deno 2 will do", async () => {
  const m = await machine(["deno 2.8.0", ...EVERYTHING.slice(1)], true);
  assert.deepEqual(await m.run([]), { code: 0, stdout: "", stderr: "" });
  const ci = await m.run(["--ci"]);
  assert.equal(ci.code, 0, ci.stderr);
  assert.deepEqual(await m.calls(), [
    "npm install -g deno@2.9.6 --no-audit --no-fund --loglevel=error",
  ]);
  await Deno.remove(m.bin, { recursive: true });
});

Deno.test("setup: .ci/run calls the README's test command; one table lists the packages", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const ci = await Deno.readTextFile(`${ROOT}.ci/run`);
  const command = /^(scripts\/setup && deno task test)\s+#/m.exec(readme)?.[1];
  assert.equal(command, "scripts/setup && deno task test", "the README's test command");
  assert.match(ci, /^\{ scripts\/setup && deno task test; \} 2>&1 \| tee "\$log"$/m);
  assert.doesNotMatch(ci, /apt-get|npm install/, "installs only through scripts/setup");
  assert.match(readme, /^scripts\/setup demo && deno task demo\s+#/m);
});

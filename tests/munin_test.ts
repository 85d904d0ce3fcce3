/**
 * Munin: the pure formatting of lib/format/munin.ts, `ecl read -f munin|munin-config|munin-suggest`
 * and the wildcard plugin munin/ecl_ run as munin-node runs it: directly with munin-node's
 * environment, through `munin-run` and through munin-node's own code when they are installed, with
 * MUNIN_PLUGSTATE set. `ecl` is the CLI bundle with exactly the binaries' permissions (tests/_bundle.ts),
 * as a user's binary is. Outputs are compared byte for byte against a real redis-server holding
 * known counters.
 */
import assert from "node:assert/strict";
import {
  appendState,
  cleanFieldName,
  fieldNames,
  fnv1a,
  formatMuninConfig,
  formatMuninValues,
  intervalWords,
  MAX_FIELD_LENGTH,
  muninSuggestions,
  muninText,
  muninValue,
  orderIds,
  parseState,
  STATE_HEADER,
} from "../lib/format/munin.ts";
import { eclArgs, runEcl, writeEclBinary } from "./_bundle.ts";
import { PERMISSIONS } from "../scripts/_permissions.ts";
import { denoCommand, finish, spawnScript, writeConfig } from "./_process.ts";
import { isoTime } from "../lib/_message.ts";
import { periodKey } from "../lib/layouts/periods_keys.ts";
import { freePort, type RedisServer, withRedis } from "./_redis.ts";
import { sleep } from "./_wait.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const PLUGIN = `${ROOT}munin/ecl_`;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

// ---------------------------------------------------------------------------------------------
// Pure formatting

Deno.test("munin: field names are made of [A-Za-z0-9_], digits kept", () => {
  const cases: [string, string][] = [
    ["req1", "req1"],
    ["req-2", "req_2"],
    ["a.b:c d", "a_b_c_d"],
    ["1st", "_1st"],
    ["200", "_200"],
    ["..a.b", "__a_b"],
    ["_x", "_x"],
    ["root", "__root"],
    ["rooted", "rooted"],
    ["é", "_"],
    ["aé😀b", "a__b"], // one "_" per code point, not per UTF-16 unit
    ["a\nb", "a_b"],
  ];
  for (const [id, field] of cases) assert.equal(cleanFieldName(id), field, JSON.stringify(id));
  const long = "x".repeat(100);
  assert.equal(cleanFieldName(long), "x".repeat(57) + "_" + fnv1a(long).slice(0, 6));
  assert.equal(cleanFieldName(long).length, MAX_FIELD_LENGTH);
  assert.equal(cleanFieldName("y".repeat(MAX_FIELD_LENGTH)), "y".repeat(MAX_FIELD_LENGTH));
});

Deno.test("munin: FNV-1a gives the published test vectors", () => {
  assert.equal(fnv1a(""), "811c9dc5");
  assert.equal(fnv1a("a"), "e40c292c");
  assert.equal(fnv1a("foobar"), "bf9cf968");
});

Deno.test("munin: field names are unique, and earlier IDs keep theirs when IDs are added", () => {
  assert.deepEqual(
    [...fieldNames(["req-2", "req.2", "req_2", "req-2"])],
    [["req-2", "req_2"], ["req.2", "req_2_d213c2"], ["req_2", "req_2_cf9abf"]],
  );
  // The hashed name is taken too: a counter follows.
  assert.deepEqual(
    [...fieldNames(["a_b_2a89df", "a_b", "a-b"])],
    [["a_b_2a89df", "a_b_2a89df"], ["a_b", "a_b"], ["a-b", "a_b_2a89df_2"]],
  );
  // Long IDs with the same beginning.
  const long = "p".repeat(80);
  const names = fieldNames([long + "1", long + "2", long + "1.", "p".repeat(57) + "_x"]);
  assert.equal(new Set(names.values()).size, 4);
  for (const name of names.values()) assert.ok(name.length <= MAX_FIELD_LENGTH + 2, name);

  // Many colliding IDs: every name valid and unique; a longer list keeps the names of a shorter.
  let seed = 7;
  const random = () => (seed = Math.imul(seed, 1103515245) + 12345 >>> 0) / 2 ** 32;
  const ids = Array.from(
    { length: 3000 },
    (_, i) =>
      Array.from({ length: 1 + (i % 4) }, () => "ab_-.1é\n"[Math.floor(random() * 8)]).join(""),
  );
  const all = fieldNames(ids);
  assert.equal(new Set(all.values()).size, all.size);
  for (const name of all.values()) assert.match(name, FIELD);
  const some = fieldNames(ids.slice(0, 1000));
  for (const [id, name] of some) assert.equal(all.get(id), name);
});

Deno.test("munin: IDs are ordered state file first, then configured events, then sorted", () => {
  assert.deepEqual(orderIds(["z", "a"], ["y", "a", "b"], ["c", "b", "B", "z"]), [
    "z",
    "a",
    "y",
    "b",
    "B",
    "c",
  ]);
  assert.deepEqual(orderIds([], [], ["\u{1F600}", "\uFFFF"]), ["\uFFFF", "\u{1F600}"]);
});

Deno.test("munin: interval lengths in words", () => {
  const cases: [number, string][] = [
    [1, "second"],
    [5, "5 seconds"],
    [30, "30 seconds"],
    [90, "90 seconds"],
    [60, "minute"],
    [300, "5 minutes"],
    [5400, "90 minutes"],
    [3600, "hour"],
    [7200, "2 hours"],
    [86400, "day"],
    [172800, "2 days"],
  ];
  for (const [seconds, words] of cases) assert.equal(intervalWords(seconds), words);
});

Deno.test("munin: labels stay on one line", () => {
  assert.equal(muninText("req/1 é"), "req/1 é");
  assert.equal(muninText("a\nb\r\tc"), "a\\nb\\r\\tc");
  assert.equal(muninText("\u0001\u007f\u0085\u2028"), "\\u0001\\u007f\\u0085\\u2028");
});

Deno.test("munin: config and values text", () => {
  const fields = new Map([["b\nx", "b_x"], ["a-1", "a_1"], ["root", "__root"]]);
  assert.equal(
    formatMuninConfig({ group: "web\napp", interval: "0.5m", seconds: 30, fields }),
    "graph_title ecl: events of web\\napp per 30 seconds\n" +
      "graph_category ecl\n" +
      "graph_vlabel events per 30 seconds\n" +
      "graph_args --base 1000 -l 0\n" +
      "graph_info Events of ecl group web\\napp counted per 0.5m interval: each value is the count of the last finished interval.\n" +
      "a_1.label a-1\na_1.type GAUGE\na_1.min 0\n" +
      "b_x.label b\\nx\nb_x.type GAUGE\nb_x.min 0\n" +
      "__root.label root\n__root.type GAUGE\n__root.min 0\n",
  );
  assert.equal(
    formatMuninValues(fields, new Map([["a-1", 12], ["root", 10 / 3]])),
    "a_1.value 12\nb_x.value U\n__root.value 3.333\n",
  );
  assert.equal(
    formatMuninConfig({ group: "g", interval: "1h", seconds: 3600, fields: new Map() }).split(
      "\n",
    )[0],
    "graph_title ecl: events of g per hour",
  );
  assert.equal(muninValue(undefined), "U");
  assert.equal(muninValue(Number.NaN), "U");
  assert.equal(muninValue(0), "0");
  assert.equal(muninValue(2 ** 53 - 1), "9007199254740991");
});

Deno.test("munin: suggestions are <group>_<interval> for names a plugin may have", () => {
  const suggestions = muninSuggestions([
    { name: "requests", intervals: [{ name: "5m" }, { name: "1h" }] },
    { name: "my_group", intervals: [{ name: "10S" }] },
    { name: "http-status", intervals: [{ name: "5m" }] },
    { name: "half", intervals: [{ name: "0.5m" }, { name: "30s" }] },
  ]);
  assert.equal(suggestions.text, "requests_5m\nrequests_1h\nmy_group_10S\nhalf_30s\n");
  assert.deepEqual(suggestions.skipped, ["http-status:5m", "half:0.5m"]);
});

Deno.test("munin: state file text", () => {
  const text = STATE_HEADER +
    '\n"a:x"\nraw id\r\n\n# note\n"new\\nline"\n"broken\n@ts\n"@w:1"\n"a:x"\n3';
  assert.deepEqual(parseState(text), {
    ids: ["a:x", "raw id", "new\nline", "3"],
    bad: [{ line: 7, text: '"broken' }, { line: 8, text: "@ts" }, { line: 9, text: '"@w:1"' }],
  });
  assert.deepEqual(parseState(""), { ids: [], bad: [] });
  assert.equal(appendState("", ["a\nb", '"q"']), STATE_HEADER + '\n"a\\nb"\n"\\"q\\""\n');
  assert.equal(appendState("x", ["y"]), 'x\n"y"\n');
  assert.equal(appendState("x\n", []), "x\n");
  // What is written reads back as the same IDs, lone surrogates included.
  const ids = ["a", "\ud800", "tab\there", "é😀", " lead", "#hash", '"quoted"'];
  assert.deepEqual(parseState(appendState("", ids)).ids, ids);
});

// ---------------------------------------------------------------------------------------------
// Against a real Redis

/**
 * Start of the 5-minute period the counters are set in: the current one, or the next one in the
 * last minute of the current one, so that no test sees them go stale (5 min + 5 s after it).
 */
const B = Math.floor((Date.now() / 1000 + 60) / 300) * 300;

const CONFIG_YAML = (port: number) =>
  `redis:
  host: 127.0.0.1
  port: ${port}
groups:
  requests:
    events: [req1, req-2, req.2, 1st]
    intervals: [5m, 1h]
  my_group:
    events: [a, b]
    intervals: [5m]
  dyn:
    auto_declare_events: true
    intervals: [5m]
  http-status:
    auto_declare_events: true
    intervals: [0.5m, 5m]
  slow:
    events: [x]
    intervals: [5m]
`;

/** The `config` output of a graph, for groups whose text is not spelt out in full below. */
function configText(group: string, interval: string, per: string, fields: string[][]): string {
  return `graph_title ecl: events of ${group} per ${per}\ngraph_category ecl\n` +
    `graph_vlabel events per ${per}\ngraph_args --base 1000 -l 0\n` +
    `graph_info Events of ecl group ${group} counted per ${interval} interval: each value is the count of the last finished interval.\n` +
    fields.map(([field, label]) => `${field}.label ${label}\n${field}.type GAUGE\n${field}.min 0\n`)
      .join("");
}

const REQUESTS_CONFIG = "graph_title ecl: events of requests per 5 minutes\n" +
  "graph_category ecl\n" +
  "graph_vlabel events per 5 minutes\n" +
  "graph_args --base 1000 -l 0\n" +
  "graph_info Events of ecl group requests counted per 5m interval: each value is the count of the last finished interval.\n" +
  "_1st.label 1st\n_1st.type GAUGE\n_1st.min 0\n" +
  "req_2.label req-2\nreq_2.type GAUGE\nreq_2.min 0\n" +
  "req_2_d213c2.label req.2\nreq_2_d213c2.type GAUGE\nreq_2_d213c2.min 0\n" +
  "req1.label req1\nreq1.type GAUGE\nreq1.min 0\n";
const REQUESTS_VALUES = "_1st.value 0\nreq_2.value 11\nreq_2_d213c2.value 0\nreq1.value 54\n";

/** Counters of the last finished 5m interval (rotated on time) and of the current one. */
async function setCounters(server: RedisServer): Promise<void> {
  const raw = await server.client();
  const rotated = (group: string) => ({
    [`${group}:5m:last:@ts`]: String(B - 300),
    [`${group}:5m:cur:@ts`]: String(B),
  });
  await raw.mSet({
    ...rotated("requests"),
    "requests:5m:last:req1": "54",
    "requests:5m:last:req-2": "11",
    "requests:5m:cur:req1": "3",
    ...rotated("my_group"),
    "my_group:5m:last:a": "7",
    ...rotated("http-status"),
    "http-status:5m:last:200": "40",
    "http-status:5m:last:404": "2",
    "http-status:5m:cur:500": "1",
  });
}

/** `name` in the PATH or in /usr/sbin (munin-node's tools), when installed. */
function findTool(name: string): string | undefined {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/usr/local/sbin"];
  for (const dir of dirs) {
    try {
      if (dir !== "" && Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // Not there.
    }
  }
  return undefined;
}
const MUNIN_RUN = findTool("munin-run");
const MUNIN_NODE_CONFIGURE = findTool("munin-node-configure");

/**
 * What munin-node does for `config NAME` and `fetch NAME` (Munin::Node::Server): prepare the
 * plugins' environment from plugin-conf.d, run the plugin with `fork_service` (its user, env.*
 * settings, MUNIN_PLUGSTATE, output read through pipes, stderr logged), then print its stdout
 * lines. Arguments: service directory, plugin-conf.d directory, plugin, argument (none to fetch).
 */
const MUNIN_NODE_PERL = `
use strict;
use warnings;
use Munin::Node::Config;
use Munin::Node::Service;
my ($servicedir, $sconfdir, $service, $arg) = @ARGV;
my $config = Munin::Node::Config->instance();
my $services = Munin::Node::Service->new(servicedir => $servicedir, timeout => 30);
$config->reinitialize({ %$config, services => $services, sconfdir => $sconfdir });
$services->prepare_plugin_environment($services->list);
local $SIG{CHLD};
my $res = $services->fork_service($service, $arg);
print "$_\n" for @{ $res->{stdout} };
print STDERR "$_\n" for @{ $res->{stderr} };
exit($res->{timed_out} ? 124 : $res->{retval} >> 8);
`;
const MUNIN_NODE = (await new Deno.Command("perl", {
  args: ["-MMunin::Node::Service", "-e", "1"],
  stdout: "null",
  stderr: "null",
}).output().catch(() => undefined))?.success ?? false;

interface PluginResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The ways of running a plugin: always directly, the others when munin-node is installed. */
const WAYS = {
  direct: { name: "sh plugin, munin-node's environment", available: true },
  "munin-run": { name: "munin-run", available: MUNIN_RUN !== undefined },
  "munin-node": { name: "munin-node's fork_service", available: MUNIN_NODE },
} as const;
type Way = keyof typeof WAYS;

/** Plugins linked in a service directory, run the way munin-node runs them. */
interface Node {
  readonly way: Way;
  /** Service directory: the plugins (symlinks to munin/ecl_). */
  readonly services: string;
  /** plugin-conf.d directory. */
  readonly sconfdir: string;
  /** MUNIN_PLUGSTATE. */
  readonly stateDir: string;
  run(plugin: string, arg?: string): Promise<PluginResult>;
}

/** Per-plugin settings (plugin-conf.d `[name]` sections), besides `[ecl_*]`. */
const PLUGIN_ENV: Record<string, Record<string, string>> = {
  ecl_http_status_5m: { ecl_group: "http-status" },
};
const LINKS = [
  "ecl_",
  "ecl_requests_5m",
  "ecl_my_group_5m",
  "ecl_my_group",
  "ecl_http_status_5m",
  "ecl_dyn_5m",
];

function decode(output: Deno.CommandOutput): PluginResult {
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

async function makeNode(way: Way, config: string, eclBin: string): Promise<Node & { dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: `ecl-munin-${way}-` });
  const services = `${dir}/plugins`;
  const sconfdir = `${dir}/plugin-conf.d`;
  const stateDir = `${dir}/state`;
  for (const sub of [services, sconfdir, stateDir]) await Deno.mkdir(sub);
  for (const link of LINKS) await Deno.symlink(PLUGIN, `${services}/${link}`);
  let conf = "[ecl_*]\n" +
    // Munin would run the plugin as "nobody", who cannot read this checkout's Deno cache.
    (Deno.uid() === 0 ? "user root\n" : "") +
    `env.ecl_config ${config}\nenv.ecl_bin ${eclBin}\nenv.MUNIN_PLUGSTATE ${stateDir}\n`;
  for (const [plugin, env] of Object.entries(PLUGIN_ENV)) {
    conf += `\n[${plugin}]\n` +
      Object.entries(env).map(([key, value]) => `env.${key} ${value}\n`).join("");
  }
  await Deno.writeTextFile(`${sconfdir}/ecl`, conf);
  const args = (arg: string | undefined) => arg === undefined ? [] : [arg];
  const command = (plugin: string, arg: string | undefined): Deno.Command => {
    switch (way) {
      case "direct":
        // munin-node's environment: a fixed PATH, the C locale, MUNIN_PLUGSTATE and env.*.
        return new Deno.Command("/bin/sh", {
          args: [`${services}/${plugin}`, ...args(arg)],
          clearEnv: true,
          env: {
            PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
            LC_ALL: "C",
            LANG: "C",
            MUNIN_PLUGSTATE: stateDir,
            MUNIN_STATEFILE: `${stateDir}/${plugin}-`,
            ecl_config: config,
            ecl_bin: eclBin,
            ...PLUGIN_ENV[plugin],
          },
          cwd: dir,
          stdin: "null",
        });
      case "munin-run":
        return new Deno.Command(MUNIN_RUN!, {
          args: [
            "--ignore-systemd-properties",
            "--servicedir",
            services,
            "--sconfdir",
            sconfdir,
            plugin,
            ...args(arg),
          ],
          cwd: dir,
          stdin: "null",
        });
      case "munin-node":
        return new Deno.Command("perl", {
          args: ["-e", MUNIN_NODE_PERL, services, sconfdir, plugin, ...args(arg)],
          cwd: "/",
          stdin: "null",
        });
    }
  };
  return {
    way,
    dir,
    services,
    sconfdir,
    stateDir,
    run: async (plugin, arg) => decode(await command(plugin, arg).output()),
  };
}

/**
 * Run `body` once per way of running plugins (a step marked ignored when munin-node is not
 * installed). Each way gets its own service, plugin-conf.d and state directory.
 */
async function eachWay(
  t: Deno.TestContext,
  server: RedisServer,
  body: (node: Node, config: string) => Promise<void>,
): Promise<void> {
  const config = await writeConfig(CONFIG_YAML(server.port));
  const binDir = await Deno.makeTempDir({ prefix: "ecl-munin-bin-" });
  const eclBin = await writeEclBinary(binDir);
  try {
    for (const [way, { name, available }] of Object.entries(WAYS) as [Way, typeof WAYS[Way]][]) {
      await t.step({
        name,
        ignore: !available,
        fn: async () => {
          const node = await makeNode(way, config, eclBin);
          try {
            await body(node, config);
          } finally {
            await Deno.remove(node.dir, { recursive: true });
          }
        },
      });
    }
  } finally {
    await Deno.remove(binDir, { recursive: true });
    await Deno.remove(config);
  }
}

function ok(result: PluginResult, stdout: string): void {
  assert.equal(result.stdout, stdout, result.stderr);
  assert.equal(result.code, 0, result.stderr);
}

Deno.test("munin: ecl read -f munin-config and -f munin print the last finished interval", () =>
  withRedis(async (server) => {
    await setCounters(server);
    const config = await writeConfig(CONFIG_YAML(server.port));
    const read = (...args: string[]) => runEcl(["read", config, ...args]);
    const configOut = await read("-g", "requests", "-i", "5m", "-f", "munin-config");
    assert.equal(configOut.stderr, "");
    ok(configOut, REQUESTS_CONFIG);
    const values = await read("-g", "requests", "-i", "5m", "-f", "munin");
    assert.equal(values.stderr, "");
    ok(values, REQUESTS_VALUES);
    // --current is not what Munin graphs: the munin formats always read the last interval.
    ok(await read("-g", "requests", "-i", "5m", "-f", "munin", "--current"), REQUESTS_VALUES);

    const suggest = await read("-f", "munin-suggest");
    ok(suggest, "requests_5m\nrequests_1h\nmy_group_5m\ndyn_5m\nslow_5m\n");
    await Deno.remove(config);
  }));

Deno.test({
  name: "munin: munin-suggest skips names that cannot be plugin names",
  fn: () =>
    withRedis(async (server) => {
      const config = await writeConfig(
        `redis: {host: 127.0.0.1, port: ${server.port}}\ngroups:\n` +
          `  http-status: {intervals: [0.5m, 5m]}\n  ok: {intervals: [1h]}\n`,
      );
      const result = await runEcl(["read", config, "-f", "munin-suggest"]);
      ok(result, "ok_1h\n");
      assert.equal(
        result.stderr,
        'ecl: warning: not suggesting "http-status:0.5m": its name is not [A-Za-z0-9_]; link ecl_ by hand and set env.ecl_group and env.ecl_interval\n' +
          'ecl: warning: not suggesting "http-status:5m": its name is not [A-Za-z0-9_]; link ecl_ by hand and set env.ecl_group and env.ecl_interval\n',
      );
      await Deno.remove(config);
    }),
});

Deno.test("munin: the ecl_ plugin as munin-node runs it: config, fetch, names with _", (t) =>
  withRedis(async (server) => {
    await setCounters(server);
    await eachWay(t, server, async (node) => {
      ok(await node.run("ecl_requests_5m", "config"), REQUESTS_CONFIG);
      ok(await node.run("ecl_requests_5m"), REQUESTS_VALUES);
      ok(await node.run("ecl_requests_5m", "fetch"), REQUESTS_VALUES);
      assert.equal(
        await Deno.readTextFile(`${node.stateDir}/ecl_requests_5m.ids`),
        `${STATE_HEADER}\n"req1"\n"req-2"\n"req.2"\n"1st"\n`,
      );

      // A group name with "_": the interval is what follows the last "_"; without an interval
      // the group's only one is read.
      const myGroup = configText("my_group", "5m", "5 minutes", [["a", "a"], ["b", "b"]]);
      ok(await node.run("ecl_my_group_5m", "config"), myGroup);
      ok(await node.run("ecl_my_group_5m"), "a.value 7\nb.value 0\n");
      ok(await node.run("ecl_my_group", "config"), myGroup);
      ok(await node.run("ecl_my_group"), "a.value 7\nb.value 0\n");

      // A group name with "-": env.ecl_group names it, the interval comes from the plugin name.
      ok(
        await node.run("ecl_http_status_5m", "config"),
        configText("http-status", "5m", "5 minutes", [["_200", "200"], ["_404", "404"]]),
      );
      ok(await node.run("ecl_http_status_5m"), "_200.value 40\n_404.value 2\n");

      ok(await node.run("ecl_", "autoconf"), "yes\n");
      ok(
        await node.run("ecl_", "suggest"),
        "requests_5m\nrequests_1h\nmy_group_5m\ndyn_5m\nslow_5m\n",
      );
      if (node.way === "munin-node" && MUNIN_NODE_CONFIGURE !== undefined) {
        // What munin-node-configure --shell (autoconf, then suggest) links in an empty directory.
        const empty = `${node.services}-new`;
        await Deno.mkdir(empty);
        const configure = decode(
          await new Deno.Command(MUNIN_NODE_CONFIGURE, {
            args: [
              "--libdir",
              `${ROOT}munin`,
              "--servicedir",
              empty,
              "--sconfdir",
              node.sconfdir,
              "--families",
              "auto",
              "--shell",
            ],
            stdin: "null",
          }).output(),
        );
        ok(
          configure,
          ["dyn_5m", "my_group_5m", "requests_1h", "requests_5m", "slow_5m"].map((name) =>
            `ln -s '${PLUGIN}' '${empty}/ecl_${name}'\n`
          ).join(""),
        );
      }
      // The bare wildcard cannot fetch.
      const bare = await node.run("ecl_");
      assert.equal(bare.code, 1);
      assert.equal(bare.stdout, "");
      assert.match(bare.stderr, /ecl_: link it as ecl_<group>_<interval> or set env\.ecl_group/);
    });
  }));

/** Where munin-run and munin-node put a plugin's state: MUNIN_PLUGSTATE, per plugin user. */
const DEBIAN_PLUGSTATE = "/var/lib/munin-node/plugin-state";

Deno.test({
  name: "munin: munin-run and munin-node with their own MUNIN_PLUGSTATE: the state file is written",
  // The plugin runs as root here: the bundle and Deno's cache are root's.
  ignore: Deno.uid() !== 0 || (MUNIN_RUN === undefined && !MUNIN_NODE),
  fn: (t) =>
    withRedis(async (server) => {
      const raw = await server.client();
      await raw.mSet({
        "dyn:5m:last:@ts": String(B - 300),
        "dyn:5m:cur:@ts": String(B),
        "dyn:5m:last:x": "3",
        "requests:5m:last:@ts": String(B - 300),
        "requests:5m:cur:@ts": String(B),
        "requests:5m:last:req1": "2",
      });
      const config = await writeConfig(CONFIG_YAML(server.port));
      const dir = await Deno.makeTempDir({ prefix: "ecl-munin-plugstate-" });
      const services = `${dir}/plugins`;
      const sconfdir = `${dir}/plugin-conf.d`;
      await Deno.mkdir(services);
      await Deno.mkdir(sconfdir);
      const eclBin = await writeEclBinary(dir);
      // Names of this run only: the state directory is the system's.
      const tag = crypto.randomUUID().slice(0, 8);
      const plugins = { [`ecl_dyn${tag}`]: "dyn", [`ecl_req${tag}`]: "requests" };
      let conf = `[ecl_*]\nuser root\nenv.ecl_config ${config}\nenv.ecl_bin ${eclBin}\n`;
      for (const [plugin, group] of Object.entries(plugins)) {
        await Deno.symlink(PLUGIN, `${services}/${plugin}`);
        conf += `\n[${plugin}]\nenv.ecl_group ${group}\nenv.ecl_interval 5m\n`;
      }
      await Deno.writeTextFile(`${sconfdir}/ecl`, conf);
      const run = async (way: Way, plugin: string) =>
        decode(
          await (way === "munin-run"
            ? new Deno.Command(MUNIN_RUN!, {
              args: [
                "--ignore-systemd-properties",
                "--servicedir",
                services,
                "--sconfdir",
                sconfdir,
                plugin,
              ],
              stdin: "null",
            })
            : new Deno.Command("perl", {
              args: ["-e", MUNIN_NODE_PERL, services, sconfdir, plugin],
              cwd: "/",
              stdin: "null",
            })).output(),
        );
      const state = (plugin: string) => `${DEBIAN_PLUGSTATE}/root/${plugin}.ids`;
      try {
        for (const way of ["munin-run", "munin-node"] as const) {
          await t.step({
            name: WAYS[way].name,
            ignore: !WAYS[way].available,
            fn: async () => {
              for (const plugin of Object.keys(plugins)) {
                await Deno.remove(state(plugin)).catch(() => {});
              }
              ok(await run(way, `ecl_dyn${tag}`), "x.value 3\n");
              assert.equal(
                await Deno.readTextFile(state(`ecl_dyn${tag}`)),
                `${STATE_HEADER}\n"x"\n`,
              );
              ok(
                await run(way, `ecl_req${tag}`),
                "_1st.value 0\nreq_2.value 0\nreq_2_d213c2.value 0\nreq1.value 2\n",
              );
              assert.equal(
                await Deno.readTextFile(state(`ecl_req${tag}`)),
                `${STATE_HEADER}\n"req1"\n"req-2"\n"req.2"\n"1st"\n`,
              );
            },
          });
        }
      } finally {
        for (const plugin of Object.keys(plugins)) {
          for (const file of [state(plugin), `${state(plugin)}.lock`]) {
            await Deno.remove(file).catch(() => {});
          }
        }
        await Deno.remove(dir, { recursive: true });
        await Deno.remove(config);
      }
    }),
});

Deno.test("munin: dynamic events: IDs accumulate in the state file, absent ones are 0", (t) =>
  withRedis(async (server) => {
    const raw = await server.client();
    await eachWay(t, server, async (node) => {
      await raw.flushAll();
      await raw.mSet({
        "dyn:5m:last:@ts": String(B - 300),
        "dyn:5m:cur:@ts": String(B),
        "dyn:5m:last:b": "2",
        "dyn:5m:last:a:x": "1",
        "dyn:5m:last:new\nline": "4",
      });
      ok(
        await node.run("ecl_dyn_5m", "config"),
        configText("dyn", "5m", "5 minutes", [
          ["a_x", "a:x"],
          ["b", "b"],
          ["new_line", "new\\nline"],
        ]),
      );
      ok(await node.run("ecl_dyn_5m"), "a_x.value 1\nb.value 2\nnew_line.value 4\n");
      const state = `${node.stateDir}/ecl_dyn_5m.ids`;
      assert.equal(await Deno.readTextFile(state), `${STATE_HEADER}\n"a:x"\n"b"\n"new\\nline"\n`);

      // The master rotates: those events saw nothing, two others did; "a-x" cleans to the field
      // name of "a:x", which keeps it (it came first).
      await raw.del(["dyn:5m:last:b", "dyn:5m:last:a:x", "dyn:5m:last:new\nline"]);
      await raw.mSet({ "dyn:5m:last:c": "5", "dyn:5m:last:a-x": "7" });
      ok(
        await node.run("ecl_dyn_5m"),
        "a_x_2489d5.value 7\na_x.value 0\nb.value 0\nc.value 5\nnew_line.value 0\n",
      );
      ok(
        await node.run("ecl_dyn_5m", "config"),
        configText("dyn", "5m", "5 minutes", [
          ["a_x_2489d5", "a-x"],
          ["a_x", "a:x"],
          ["b", "b"],
          ["c", "c"],
          ["new_line", "new\\nline"],
        ]),
      );
      assert.equal(
        await Deno.readTextFile(state),
        `${STATE_HEADER}\n"a:x"\n"b"\n"new\\nline"\n"a-x"\n"c"\n`,
      );

      // Deleting a line by hand forgets the ID; a hand-written plain line is an ID too.
      await Deno.writeTextFile(state, `${STATE_HEADER}\n"a:x"\n"a-x"\n"c"\nhand made\n`);
      ok(
        await node.run("ecl_dyn_5m"),
        "a_x_2489d5.value 7\na_x.value 0\nc.value 5\nhand_made.value 0\n",
      );
      // Nothing new: the file is left as it is; no temporary file is left behind.
      assert.equal(
        await Deno.readTextFile(state),
        `${STATE_HEADER}\n"a:x"\n"a-x"\n"c"\nhand made\n`,
      );
      const files = [...Deno.readDirSync(node.stateDir)].map((entry) => entry.name).sort();
      assert.deepEqual(files, ["ecl_dyn_5m.ids", "ecl_dyn_5m.ids.lock"]);
    });
  }));

Deno.test("munin: overlapping runs neither lose IDs nor corrupt the state file", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    const ids = Array.from({ length: 50 }, (_, i) => `ev${i}`);
    await raw.mSet(Object.fromEntries(ids.map((id, i) => [`dyn:5m:last:${id}`, String(i + 1)])));
    const config = await writeConfig(CONFIG_YAML(server.port));
    const dir = await Deno.makeTempDir({ prefix: "ecl-munin-race-" });
    const state = `${dir}/dyn.ids`;

    // Eight plugin runs at once, all finding the same new IDs.
    const runs = await Promise.all(
      Array.from(
        { length: 8 },
        () => runEcl(["read", config, "-g", "dyn", "-f", "munin", "--state", state]),
      ),
    );
    for (const run of runs) {
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, runs[0].stdout);
    }
    const text = await Deno.readTextFile(state);
    assert.equal(text, STATE_HEADER + "\n" + [...ids].sort().map((id) => `"${id}"\n`).join(""));

    // Six processes adding different IDs one at a time, 30 each, all also adding "shared".
    const workers = Array.from(
      { length: 6 },
      (_, w) => spawnScript("tests/_munin_state_worker.ts", [state, `w${w}`, "30"]),
    );
    for (const worker of workers) {
      const output = await worker.output();
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    }
    const after = await Deno.readTextFile(state);
    assert.ok(after.startsWith(text), "earlier lines kept, in order");
    const parsed = parseState(after);
    assert.deepEqual(parsed.bad, []);
    assert.equal(parsed.ids.length, 50 + 6 * 30 + 1);
    assert.equal(after.split("\n").length - 2, parsed.ids.length, "no duplicate lines");
    for (let w = 0; w < 6; w++) {
      const own = parsed.ids.filter((id) => id.startsWith(`w${w}-`));
      assert.deepEqual(own, Array.from({ length: 30 }, (_, i) => `w${w}-${i}`));
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "dyn.ids",
      "dyn.ids.lock",
    ]);
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(config);
  }));

Deno.test("munin: a run waits for the state file's lock, and gives up after 5 s", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    await raw.set("dyn:5m:last:x", "1");
    const config = await writeConfig(CONFIG_YAML(server.port));
    const dir = await Deno.makeTempDir({ prefix: "ecl-munin-lock-" });
    const state = `${dir}/dyn.ids`;
    const args = ["read", config, "-g", "dyn", "-f", "munin", "--state", state];

    const lock = await Deno.open(`${state}.lock`, { read: true, write: true, create: true });
    await lock.lock(true);
    const waiting = runEcl(args);
    await sleep(1500);
    await assert.rejects(Deno.stat(state), Deno.errors.NotFound);
    lock.close();
    const result = await waiting;
    ok(result, "x.value 1\n");
    assert.equal(await Deno.readTextFile(state), `${STATE_HEADER}\n"x"\n`);

    await raw.set("dyn:5m:last:y", "2");
    const held = await Deno.open(`${state}.lock`, { read: true, write: true });
    await held.lock(true);
    const gaveUp = await runEcl(args);
    held.close();
    assert.equal(gaveUp.code, 1);
    assert.equal(gaveUp.stdout, "");
    assert.equal(
      gaveUp.stderr,
      `ERROR: Cannot lock ${state}.lock: another run held it for more than 5 s\n`,
    );
    assert.equal(await Deno.readTextFile(state), `${STATE_HEADER}\n"x"\n`);
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(config);
  }));

Deno.test("munin: stale counters are U; a span of several intervals gives averages", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    const hour = Math.floor(Date.now() / 3_600_000) * 3600;
    await raw.mSet({
      // No master for two hours.
      "requests:1h:last:req1": "5",
      "requests:1h:last:@ts": String(hour - 10800),
      "requests:1h:cur:@ts": String(hour - 7200),
      // The master was down for 10 minutes and rotated once: "last" holds 15 minutes.
      "slow:5m:last:x": "10",
      "slow:5m:last:@ts": String(B - 900),
      "slow:5m:cur:@ts": String(B),
      // Someone wrote something that is not a count.
      "dyn:5m:last:bad": "hello",
      "dyn:5m:last:good": "3",
    });
    const config = await writeConfig(CONFIG_YAML(server.port));
    const read = (...args: string[]) => runEcl(["read", config, "-f", "munin", ...args]);

    const stale = await read("-g", "requests", "-i", "1h");
    ok(stale, "_1st.value U\nreq_2.value U\nreq_2_d213c2.value U\nreq1.value U\n");
    assert.equal(
      stale.stderr,
      `ecl: warning: requests:1h: not rotated since ${
        isoTime(hour - 7200)
      }: printing U for every value (no master?)\n`,
    );
    const slow = await read("-g", "slow");
    ok(slow, "x.value 3.333\n");
    assert.equal(
      slow.stderr,
      `ecl: warning: slow:5m: "last" spans 3 intervals (${isoTime(B - 900)} to ${
        isoTime(B)
      }): the master missed boundaries; printing averages\n`,
    );
    const bad = await read("-g", "dyn");
    ok(bad, "bad.value U\ngood.value 3\n");
    assert.equal(
      bad.stderr,
      'ecl: warning: Printing U for event "bad" of dyn:5m:last: its value "hello" is not a count\n',
    );
    await Deno.remove(config);
  }));

Deno.test("munin: autoconf says no, with the reason, when ecl or Redis is missing", async () => {
  const port = await freePort();
  const config = await writeConfig(CONFIG_YAML(port));
  const run = async (env: Record<string, string>) => {
    const output = await new Deno.Command("/bin/sh", {
      args: [PLUGIN, "autoconf"],
      clearEnv: true,
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C", ecl_config: config, ...env },
      stdin: "null",
    }).output();
    return { code: output.code, stdout: new TextDecoder().decode(output.stdout) };
  };
  const binDir = await Deno.makeTempDir({ prefix: "ecl-munin-bin-" });
  const eclBin = await writeEclBinary(binDir);
  const noRedis = await run({ ecl_bin: eclBin });
  assert.equal(noRedis.code, 0);
  assert.match(
    noRedis.stdout,
    new RegExp(`^no \\(Cannot connect to Redis at redis://127\\.0\\.0\\.1:${port}/0: .+\\)\\n$`),
  );
  assert.deepEqual(await run({ ecl_bin: `${binDir}/nothing` }), {
    code: 0,
    stdout: `no (${binDir}/nothing not found: set env.ecl_bin)\n`,
  });
  const noConfig = await run({ ecl_bin: eclBin, ecl_config: `${binDir}/none.yml` });
  assert.equal(noConfig.stdout, `no (${binDir}/none.yml: Cannot read config file: no such file)\n`);
  await Deno.remove(binDir, { recursive: true });
  await Deno.remove(config);
});

Deno.test("munin: an ecl without write permission says so in one line, exit 1", () =>
  withRedis(async (server) => {
    await (await server.client()).set("dyn:5m:last:x", "1");
    const config = await writeConfig(CONFIG_YAML(server.port));
    const dir = await Deno.makeTempDir({ prefix: "ecl-munin-nowrite-" });
    const args = ["read", config, "-g", "dyn", "-f", "munin", "--state", `${dir}/dyn.ids`];
    const result = await finish(
      denoCommand([...(await eclArgs()).filter((arg) => arg !== "--allow-write"), ...args]),
    );
    assert.ok(PERMISSIONS.includes("--allow-write"));
    assert.deepEqual(result, {
      code: 1,
      stdout: "",
      stderr: `ERROR: Cannot open lock file ${dir}/dyn.ids.lock: Requires write access to ` +
        `"${dir}/dyn.ids.lock", run again with the --allow-write flag\n`,
    });
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(config);
  }));

Deno.test("munin: a state file in a missing directory is one error line, exit 1", () =>
  withRedis(async (server) => {
    const config = await writeConfig(CONFIG_YAML(server.port));
    const result = await runEcl([
      "read",
      config,
      "-g",
      "my_group",
      "-f",
      "munin",
      "--state",
      "/nonexistent/dir/g.ids",
    ]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.equal(
      result.stderr,
      "ERROR: Cannot open lock file /nonexistent/dir/g.ids.lock: no such file\n",
    );
    await Deno.remove(config);
  }));

Deno.test("munin: the plugin is executable, POSIX sh, with Munin's magic markers", async () => {
  const info = await Deno.stat(PLUGIN);
  assert.equal((info.mode ?? 0) & 0o111, 0o111, "chmod 755 munin/ecl_");
  const text = await Deno.readTextFile(PLUGIN);
  assert.ok(text.startsWith("#!/bin/sh\n"));
  assert.match(text, /^#%# family=auto$/m);
  assert.match(text, /^#%# capabilities=autoconf suggest$/m);
  const syntax = await new Deno.Command("/bin/sh", { args: ["-n", PLUGIN] }).output();
  assert.equal(syntax.code, 0);
});

Deno.test("munin: ecl read -f munin of a periods group prints its last finished period (Redis's clock)", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    const redisSeconds = async () => Number((await raw.sendCommand(["TIME"]) as string[])[0]);
    // Away from the period's end, so that the period seeded as last is the one read.
    while ((await redisSeconds()) % 300 > 290) await sleep(200);
    const current = Math.floor((await redisSeconds()) / 300) * 300;
    await raw.hSet(periodKey("p", "5m", current - 300, 0), { a: "7" });
    await raw.hSet(periodKey("p", "5m", current, 0), { a: "100", b: "1" });
    const config = await writeConfig(
      `redis:\n  host: 127.0.0.1\n  port: ${server.port}\ngroups:\n` +
        `  p:\n    layout: periods\n    events: [a, b]\n    intervals: [5m]\n`,
    );
    try {
      const values = await runEcl(["read", config, "-g", "p", "-i", "5m", "-f", "munin"]);
      assert.equal(values.stderr, "");
      ok(values, "a.value 7\nb.value 0\n");
      const configOut = await runEcl(["read", config, "-g", "p", "-i", "5m", "-f", "munin-config"]);
      ok(configOut, configOut.stdout);
      assert.match(configOut.stdout, /^a\.label a$/m);
      assert.match(configOut.stdout, /^b\.label b$/m);
    } finally {
      await Deno.remove(config);
    }
  }));

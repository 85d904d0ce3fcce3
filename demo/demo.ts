/**
 * `deno task demo`: everything on one machine. Starts a private redis-server (unless
 * ECL_REDIS_URL points at one), an `ecl master`, three logger processes and a reader, shows counts
 * arriving, and checks at the end that every logged event was counted.
 */
import { createServer } from "node:net";
import { EventCountLogger } from "../mod.ts";

const LOGGERS = 3;
const RUN_SECONDS = 9;
const READ_EVERY_MS = 2000;
const ROOT = new URL("..", import.meta.url).pathname;
const decoder = new TextDecoder();

function say(message: string): void {
  console.log(`demo: ${message}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function startPrivateRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("redis-server", {
      args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch {
    console.error(
      "demo: cannot start redis-server: install it (apt-get install -y redis-server) or set ECL_REDIS_URL",
    );
    Deno.exit(1);
  }
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 500; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  say(`started a private redis-server at ${url}`);
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

function deno(args: string[], env: Record<string, string>): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", ...args],
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

const configText = `# Written by the demo.
groups:
  requests:            # predeclared events, direct mode: every log() reaches Redis within a turn
    events: [req1, req2, req3, error]
    intervals: [2s, 10s, 1h]
  pages:               # auto-declared events, cached mode: written every 0.5 s
    auto_declare_events: true
    intervals: [2s]
    sync_interval: 0.5
`;

const privateRedis = Deno.env.get("ECL_REDIS_URL") ? undefined : await startPrivateRedis();
if (privateRedis) Deno.env.set("ECL_REDIS_URL", privateRedis.url);
const env = { ECL_REDIS_URL: Deno.env.get("ECL_REDIS_URL")! };
const config = await Deno.makeTempFile({ prefix: "ecl-demo-", suffix: ".yml" });
await Deno.writeTextFile(config, configText);
say(`config ${config}:\n${configText}`);

const master = deno(["cli.ts", "master", config, "-v"], env).spawn();
say(
  `started ecl master (pid ${master.pid}); starting ${LOGGERS} logger processes for ${RUN_SECONDS} s`,
);
const loggers = Array.from(
  { length: LOGGERS },
  () => deno(["demo/_logger.ts", config, String(RUN_SECONDS)], env).output(),
);

const started = Date.now();
while (Date.now() - started < (RUN_SECONDS + 1) * 1000) {
  await new Promise((resolve) => setTimeout(resolve, READ_EVERY_MS));
  const read = await deno(["cli.ts", "read", config, "-g", "requests", "-i", "2s"], env).output();
  const pages = await deno(["cli.ts", "read", config, "-g", "pages"], env).output();
  const clock = new Date().toISOString().slice(11, 19);
  say(
    `[${clock}] ecl read -g requests -i 2s → ${
      decoder.decode(read.stdout).trim().replaceAll("\n", "  ")
    }`,
  );
  say(
    `[${clock}] ecl read -g pages        → ${
      decoder.decode(pages.stdout).trim().replaceAll("\n", "  ")
    }`,
  );
}

const totals: Record<string, number> = {};
for (const output of await Promise.all(loggers)) {
  if (output.code !== 0) {
    console.error(decoder.decode(output.stderr));
    Deno.exit(1);
  }
  for (const [event, count] of Object.entries(JSON.parse(decoder.decode(output.stdout)))) {
    totals[event] = (totals[event] ?? 0) + (count as number);
  }
}

// Every event of the run is in the 1h interval: in cur, or in last if an hour boundary passed.
const ecl = await EventCountLogger.fromFile(config);
const requests = ecl.getGroup("requests")!;
const current = await requests.getCounts("1h", { current: true });
const last = privateRedis ? await requests.getCounts("1h") : {};
await ecl.close();
master.kill("SIGTERM");
const masterOutput = await master.output();
const rotations = decoder.decode(masterOutput.stderr).split("\n").filter((line) =>
  line.includes("rotated")
);
say(
  `the master rotated ${rotations.length} times; its last lines:\n  ${
    rotations.slice(-3).join("\n  ")
  }`,
);

let ok = true;
for (const event of Object.keys(totals).sort()) {
  const counted = (current[event] ?? 0) + (last[event] ?? 0);
  ok &&= counted === totals[event];
  say(
    `${event}: logged ${totals[event]}, counted ${counted} ${
      counted === totals[event] ? "✓" : "✗"
    }`,
  );
}
await Deno.remove(config);
await privateRedis?.stop();
if (privateRedis === undefined) say("(shared Redis: totals include earlier runs)");
else say(ok ? "every logged event was counted exactly once" : "MISMATCH");
Deno.exit(ok || privateRedis === undefined ? 0 : 1);

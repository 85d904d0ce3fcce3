/**
 * Workload 8: `ecl log CONFIG GROUP --stdin` reading 1,000,000 lines (`EVENT` or `EVENT COUNT`,
 * 100 distinct events) from a pipe, wall time from spawn to exit including start-up, as lines/s.
 * The counts in Redis are checked.
 *
 * Run alone: `deno run -A bench/stdin.ts [--runs N]`.
 * @module
 */
import { type BenchContext, benchMain, childEnv, ROOT, type Workload } from "./_util.ts";

const DISTINCT = 100;

/** The input, and the count each event must have afterwards. */
function input(lines: number): { text: string; expected: Map<string, number> } {
  const parts: string[] = [];
  const expected = new Map<string, number>();
  for (let i = 0; i < lines; i++) {
    const event = `ev${i % DISTINCT}`;
    const count = i % 3 === 0 ? 2 : 1;
    parts.push(count === 1 ? event : `${event} ${count}`);
    expected.set(event, (expected.get(event) ?? 0) + count);
  }
  return { text: parts.join("\n") + "\n", expected };
}

async function run(context: BenchContext) {
  const lines = context.size(1_000_000);
  const { text, expected } = input(lines);
  const config = await Deno.makeTempFile({ prefix: "ecl-bench-", suffix: ".yml" });
  await Deno.writeTextFile(
    config,
    `redis: {host: 127.0.0.1, port: ${context.redis.port}}\ngroups:\n  s:\n    auto_declare_events: true\n    intervals: [1h]\n`,
  );
  try {
    const started = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "cli.ts", "log", config, "s", "--stdin"],
      cwd: ROOT,
      env: childEnv(),
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
    const output = await child.output();
    const seconds = (performance.now() - started) / 1000;
    const errors: string[] = [];
    if (output.code !== 0) {
      errors.push(
        `ecl log --stdin exited ${output.code}: ${new TextDecoder().decode(output.stderr)}`,
      );
    }
    const events = [...expected.keys()];
    const values = await context.raw.mGet(events.map((event) => `s:1h:cur:${event}`));
    events.forEach((event, index) => {
      if (values[index] !== String(expected.get(event))) {
        errors.push(`s:1h:cur:${event} = ${values[index]}, expected ${expected.get(event)}`);
      }
    });
    return { value: lines / seconds, errors };
  } finally {
    await Deno.remove(config);
  }
}

/** The workloads. */
export const workloads: Workload[] = [{
  name: "stdin",
  title: "8 ecl log --stdin: 1 M lines from a pipe, 100 events, incl. start-up",
  unit: "rate",
  target: { value: 500_000, better: "higher" },
  reference: "—",
  run,
}];

if (import.meta.main) await benchMain(workloads);

/**
 * Validating Prometheus text exposition with a real parser: `promtool check metrics` (Debian's
 * `prometheus` package; `.ci/run` installs it). It parses the text and lints it (help texts,
 * metric names); any complaint fails the test. Where promtool is not installed, the npm package
 * `parse-prometheus-text-format` parses it instead (no lint then, beyond HELP and TYPE).
 */
import assert from "node:assert/strict";
import parsePrometheus from "parse-prometheus-text-format";
import { within } from "./_wait.ts";

/**
 * Parse with the npm parser: every line must parse, every family have HELP and TYPE gauge (a
 * counter when its name ends in `_total`).
 */
function assertParses(text: string): void {
  const families = parsePrometheus(text) as { name: string; help: string; type: string }[];
  for (const family of families) {
    assert.ok(family.help !== "", `${family.name} has no HELP`);
    const type = family.name.endsWith("_total") ? "COUNTER" : "GAUGE";
    assert.equal(family.type, type, `${family.name} is not a ${type.toLowerCase()}`);
  }
  const samples = text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
  const parsed = families.reduce(
    (sum, family) => sum + (family as unknown as { metrics: unknown[] }).metrics.length,
    0,
  );
  assert.equal(parsed, samples.length, "every sample line is parsed");
}

/** Assert that `promtool check metrics` accepts `text` without a complaint. */
export async function assertValidExposition(text: string): Promise<void> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("promtool", {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch {
    // promtool is not installed here (apt-get install -y prometheus): parse with the npm parser.
    return assertParses(text);
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await within("end of writer.close()", writer.close());
  const output = await child.output();
  const decoder = new TextDecoder();
  const said = (decoder.decode(output.stdout) + decoder.decode(output.stderr)).trim();
  assert.equal(output.code, 0, `promtool check metrics failed: ${said}\n--- input ---\n${text}`);
  assert.equal(said, "", `promtool check metrics complained: ${said}`);
}

/**
 * Validating Prometheus text exposition with a real parser: `promtool check metrics` (Debian's
 * `prometheus` package; `.ci/run` installs it). It parses the text and lints it (help texts,
 * metric names); any complaint fails the test.
 */
import assert from "node:assert/strict";

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
  } catch (error) {
    throw new Error(
      `promtool not found (${
        (error as Error).message
      }): install it with apt-get install -y prometheus`,
    );
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const output = await child.output();
  const decoder = new TextDecoder();
  const said = (decoder.decode(output.stdout) + decoder.decode(output.stderr)).trim();
  assert.equal(output.code, 0, `promtool check metrics failed: ${said}\n--- input ---\n${text}`);
  assert.equal(said, "", `promtool check metrics complained: ${said}`);
}

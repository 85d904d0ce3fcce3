/** `parseYaml()` (lib/_yaml.ts): YAML 1.2 core types, errors with positions, bounded aliases. */
import assert from "node:assert/strict";
import { parseYaml, YamlError } from "../lib/_yaml.ts";

function yamlError(text: string): YamlError {
  try {
    parseYaml(text);
  } catch (error) {
    assert.ok(error instanceof YamlError, String(error));
    assert.doesNotMatch(error.message, /\n/);
    return error;
  }
  assert.fail(`parsed: ${JSON.stringify(text)}`);
}

/** Lines `a0: &a0 […]`, `a1: &a1 [*a0 × fanOut]`, … `a<levels>`: each level aliases the last. */
function aliasTower(levels: number, fanOut: number): string {
  const lines = [`a0: &a0 [${Array(fanOut).fill("x").join(", ")}]`];
  for (let level = 1; level <= levels; level++) {
    lines.push(`a${level}: &a${level} [${Array(fanOut).fill(`*a${level - 1}`).join(", ")}]`);
  }
  return lines.join("\n") + "\n";
}

Deno.test("parseYaml() types scalars by YAML 1.2's core schema, %YAML 1.1 included", () => {
  const text =
    "a: [true, False, ~, null, '', 12, -3, +4, 0x1F, 0o17, 1.5, 1e3, .inf, -.Inf, .nan]\n" +
    "b: [yes, no, on, off, y, 0b11, 1_000, 017x, 2001-12-14, 12:30, -0x1, '12', 1e400]\n";
  const value = parseYaml(text) as { a: unknown[]; b: unknown[] };
  assert.deepEqual(value.a.slice(0, 14), [
    true,
    false,
    null,
    null,
    "",
    12,
    -3,
    4,
    31,
    15,
    1.5,
    1000,
    Infinity,
    -Infinity,
  ]);
  assert.ok(Number.isNaN(value.a[14]));
  assert.deepEqual(value.b, [
    "yes",
    "no",
    "on",
    "off",
    "y",
    "0b11",
    "1_000",
    "017x",
    "2001-12-14",
    "12:30",
    "-0x1",
    "12",
    "1e400",
  ]);
  assert.deepEqual(parseYaml("%YAML 1.1\n---\na: yes\nb: 2001-12-14\n"), {
    a: "yes",
    b: "2001-12-14",
  });
});

Deno.test("parseYaml() gives plain objects, with __proto__ as an ordinary key", () => {
  const value = parseYaml("__proto__: {polluted: true}\ngroups:\n  __proto__: {x: 1}\n") as Record<
    string,
    Record<string, unknown>
  >;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.deepEqual(Object.keys(value), ["__proto__", "groups"]);
  assert.deepEqual(Object.getOwnPropertyDescriptor(value, "__proto__")?.value, { polluted: true });
  assert.deepEqual(Object.keys(value.groups), ["__proto__"]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("parseYaml(): nothing for an empty text, one document at most", () => {
  assert.equal(parseYaml(""), undefined);
  assert.equal(parseYaml("# only a comment\n"), undefined);
  assert.equal(parseYaml("---\n"), null);
  const error = yamlError("a: 1\n---\nb: 2\n");
  assert.equal(error.message, "Expected one document, found 2 (separated by ---)");
  assert.equal(error.line, undefined);
});

Deno.test("parseYaml() reports the line and column of a syntax error, 1-based", () => {
  const cases: [string, string, number, number][] = [
    ["a: 1\nb: 2\na: 3\n", "duplicated mapping key", 3, 1],
    ["a:\n  b: 1\n  b: 2\n", "duplicated mapping key", 3, 3],
    ["a:\n\tb: 1\n", "tab characters must not be used in indentation", 2, 1],
    ["a: {b: *nope}\n", 'unidentified alias "nope"', 1, 9],
    ["a: !!binary aGVsbG8=\n", "unknown scalar tag !<tag:yaml.org,2002:binary>", 1, 4],
  ];
  for (const [text, message, line, column] of cases) {
    const error = yamlError(text);
    assert.deepEqual([error.message, error.line, error.column], [message, line, column], text);
    assert.equal(error.name, "YamlError");
  }
  assert.match(yamlError("a: " + "[".repeat(500) + "\n").message, /^nesting exceeded maxDepth/);
});

Deno.test("parseYaml() bounds aliases: 100 uses of a flat anchor, not a billion laughs", () => {
  const uses = (n: number) => `a: &a [x, y]\nb: [${Array(n).fill("*a").join(", ")}]\n`;
  assert.equal((parseYaml(uses(100)) as { b: unknown[] }).b.length, 100);
  const excessive = "Excessive alias count indicates a resource exhaustion attack";
  assert.equal(yamlError(uses(101)).message, excessive);
  // Aliases of aliases multiply: 10 uses of 10 aliases each is 100, 11 of 11 is 121.
  assert.deepEqual(Object.keys(parseYaml(aliasTower(2, 10)) as object), ["a0", "a1", "a2"]);
  assert.equal(yamlError(aliasTower(2, 11)).message, excessive);
  assert.equal(yamlError(aliasTower(9, 9)).message, excessive);
  // Scalar aliases copy a value: harmless, never counted.
  const scalars = `a: &a x\nb: [${Array(1000).fill("*a").join(", ")}]\n`;
  assert.equal((parseYaml(scalars) as { b: unknown[] }).b.length, 1000);
});

Deno.test("parseYaml(): a collection holding itself, and alias chains deeper than the stack", () => {
  const selfish = parseYaml("a: &a [*a]\n") as { a: unknown[] };
  assert.equal(selfish.a[0], selfish.a);
  // 20,000 anchors each holding the one before, listed from the deepest: no stack overflow.
  const lines = ["20000: &x0 [end]"];
  for (let i = 1; i <= 20_000; i++) lines.push(`${20_000 - i}: &x${i} [*x${i - 1}]`);
  const chain = parseYaml(lines.join("\n")) as Record<string, unknown[]>;
  assert.equal(Object.keys(chain).length, 20_001);
});

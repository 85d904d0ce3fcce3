/**
 * What the one-shot commands (`ecl read`, `log`, `status`) load at start, from the bundle the
 * binaries run and from source: no `node:` module (in Deno, any of them loads the Node
 * compatibility layer: ~10 ms and ~8 MiB for `node:process`) and no CommonJS package (the `yaml`
 * package's Node build cost ~40 ms). Structural checks: their effect is measured by
 * `deno task bench --only cli-`, never timed here.
 */
import assert from "node:assert/strict";
import { eclBundle } from "./_bundle.ts";
import { denoCommand, finish } from "./_process.ts";

const ONE_SHOT = ["read", "log", "status"] as const;

/** Static imports of an ES module's source (`import … from "x"`, `import "x"`, `export … from`). */
function staticImports(source: string): string[] {
  return [
    ...source.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)";|^import\s*"([^"]+)";/gm),
  ]
    .map((match) => match[1] ?? match[2]);
}

/** The files `file` loads statically (itself included), with their sources. */
async function staticGraph(file: string): Promise<Map<string, string>> {
  const graph = new Map<string, string>();
  const pending = [new URL(`file://${file}`).href];
  while (pending.length > 0) {
    const url = pending.pop()!;
    if (graph.has(url)) continue;
    const source = await Deno.readTextFile(new URL(url));
    graph.set(url, source);
    for (const specifier of staticImports(source)) {
      pending.push(specifier.startsWith(".") ? new URL(specifier, url).href : specifier);
    }
  }
  return graph;
}

Deno.test("the bundle: read, log and status load no node: module, no CommonJS, and js-yaml's ESM build", async () => {
  const entry = await eclBundle();
  const source = await Deno.readTextFile(entry);
  // Dynamic imports name their chunk at run time: a literal one makes `deno run` load the chunk
  // and all it imports at start (node-redis's 1.3 MB for every command).
  assert.doesNotMatch(source, /\bimport\("/);
  for (const command of ONE_SHOT) {
    const chunk = new RegExp(
      `import\\(new URL\\("(\\./ecl/${command}-\\w+\\.js)", import\\.meta\\.url\\)`,
    )
      .exec(source)?.[1];
    assert.ok(chunk !== undefined, `no chunk of ecl ${command} in ${entry}`);
    const graph = await staticGraph(new URL(chunk, `file://${entry}`).pathname);
    const modules = [...graph.keys()];
    assert.deepEqual(modules.filter((url) => !url.startsWith("file:")), [], command);
    for (const [url, text] of graph) {
      assert.doesNotMatch(
        text,
        /\b__commonJS\(|\b__require\(/,
        `CommonJS in ${url} (ecl ${command})`,
      );
      assert.doesNotMatch(text, /\bimport\("/, `literal dynamic import in ${url}`);
    }
    const code = [...graph.values()].join("\n");
    // esbuild marks each bundled file with its path: the parser is js-yaml's ES module build.
    assert.match(code, /^\/\/ .*\/js-yaml\/[^/]+\/dist\/js-yaml\.mjs$/m, command);
    assert.doesNotMatch(code, /\/yaml\/[^/]+\/dist\//, command);
  }
});

Deno.test("from source: read, log and status import no node: module and no npm package but js-yaml", async () => {
  for (const command of ONE_SHOT) {
    const result = await finish(denoCommand(["info", "--json", `lib/commands/${command}.ts`]), {
      name: `deno info lib/commands/${command}.ts`,
    });
    assert.equal(result.code, 0, result.stderr);
    const info = JSON.parse(result.stdout) as {
      redirects: Record<string, string>;
      modules: {
        specifier: string;
        dependencies?: { isDynamic?: boolean; code?: { specifier: string } }[];
      }[];
    };
    const modules = new Map(info.modules.map((module) => [module.specifier, module]));
    const reached = new Set<string>();
    const pending = [new URL(`../lib/commands/${command}.ts`, import.meta.url).href];
    while (pending.length > 0) {
      const specifier = pending.pop()!;
      if (reached.has(specifier)) continue;
      reached.add(specifier);
      const module = modules.get(info.redirects[specifier] ?? specifier);
      for (const dependency of module?.dependencies ?? []) {
        // Code only: a type-only `import("node:fs")` loads nothing.
        if (!dependency.isDynamic && dependency.code) pending.push(dependency.code.specifier);
      }
    }
    assert.deepEqual(
      [...reached].filter((specifier) => !specifier.startsWith("file:")),
      ["npm:js-yaml@^5"],
      command,
    );
  }
});

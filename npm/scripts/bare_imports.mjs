// After `tsc`: the source imports its npm dependencies with full specifiers
// ("npm:@redis/client@^6"), which Deno resolves without an import map; Node resolves the bare
// package names of package.json's dependencies. Rewrites every `npm:` specifier in dist/ (.js and
// .d.ts) to the bare name, and fails when one names a package that is not a dependency.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

const NPM_DIR = new URL("..", import.meta.url).pathname;
const { dependencies } = JSON.parse(await readFile(join(NPM_DIR, "package.json"), "utf8"));
const SPECIFIER = /(["'])npm:((?:@[^/@"']+\/)?[^/@"']+)(?:@[^/"']*)?(\/[^"']*)?\1/g;

async function* files(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (/\.(js|d\.ts)$/.test(entry.name)) yield path;
  }
}

let rewritten = 0;
for await (const file of files(join(NPM_DIR, "dist"))) {
  const text = await readFile(file, "utf8");
  const bare = text.replace(SPECIFIER, (_, quote, name, subpath = "") => {
    if (!(name in dependencies)) {
      console.error(`${file}: imports npm:${name}, which is not a dependency in npm/package.json`);
      process.exit(1);
    }
    rewritten++;
    return `${quote}${name}${subpath}${quote}`;
  });
  if (bare !== text) await writeFile(file, bare);
}
if (rewritten === 0) {
  console.error("bare_imports: no npm: specifier found in dist/ (expected those of lib/store.ts)");
  process.exit(1);
}

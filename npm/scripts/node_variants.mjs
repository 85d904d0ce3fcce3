// After `tsc`: where a module has a Node variant (lib/X.node.ts, which tsconfig.json's
// `moduleSuffixes` makes tsc compile in place of lib/X.ts: resp.ts runs on Deno's sockets), tsc
// wrote dist/lib/X.node.js while the modules that import it name ./X.js. Renames the outputs
// (.js and .d.ts) to X.js, so every import in dist/ names a file that is there.
import { readdir, rename } from "node:fs/promises";
import { join } from "node:path";

const DIST = new URL("../dist", import.meta.url).pathname;
const VARIANT = /^(.*)\.node(\.js|\.d\.ts)$/;

async function* files(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

let renamed = 0;
for await (const file of files(DIST)) {
  const match = VARIANT.exec(file);
  if (match === null) continue;
  await rename(file, match[1] + match[2]);
  renamed++;
}
if (renamed === 0) {
  console.error("node_variants: no .node.js in dist/ (expected the one of lib/resp.node.ts)");
  process.exit(1);
}

/**
 * "Another client" of a Redis under test: sends PING every 5 ms over its own connection, in its
 * own process (so that the bench's own work never delays it), and reports the longest wait for a
 * reply. Prints "ready" once connected; when its stdin closes, prints
 * `{"maxMs":…,"samples":…,"errors":…}` (`errors`: replies that were not `+PONG`, e.g. `-BUSY` once a
 * script ran past Redis's `busy-reply-threshold`, and the first of them).
 *
 * Usage: deno run --allow-net bench/_pinger.ts PORT
 * @module
 */
const PERIOD_MS = 5;
const port = Number(Deno.args[0]);
const conn = await Deno.connect({ hostname: "127.0.0.1", port });
const request = new TextEncoder().encode("PING\r\n");
const buffer = new Uint8Array(64);
let stopped = false;
let maxMs = 0;
let samples = 0;
let errors = 0;
let firstError: string | undefined;

(async () => {
  for await (const _ of Deno.stdin.readable) {
    // Only the end of stdin matters.
  }
  stopped = true;
})();

console.log("ready");
while (!stopped) {
  const started = performance.now();
  await conn.write(request);
  let reply = "";
  while (!reply.endsWith("\r\n")) {
    const read = await conn.read(buffer);
    if (read === null) throw new Error(`Redis on port ${port} closed the connection`);
    reply += new TextDecoder().decode(buffer.subarray(0, read));
  }
  maxMs = Math.max(maxMs, performance.now() - started);
  if (!reply.startsWith("+PONG")) {
    errors++;
    firstError ??= reply.trim();
  }
  samples++;
  await new Promise((resolve) => setTimeout(resolve, PERIOD_MS));
}
conn.close();
console.log(JSON.stringify({ maxMs, samples, errors, firstError }));

/**
 * Hostile HTTP clients of `ecl serve`, in their own process so that their load does not delay the
 * test's own scrapes: `deno run -A tests/_hostile_http.ts PORT KIND`.
 *
 * - `idle`: opens 1,000 connections and sends nothing;
 * - `slow`: 200 connections that send a request's headers one byte every 200 ms, never ending;
 * - `big`: 10 requests with a 1 MiB header each;
 * - `burst`: 10,000 `GET /metrics` in a burst, 100 pipelined on each of 100 connections;
 * - `queries`: the same with 10,000 distinct dashboard queries (`/api/counts?filter=…`).
 *
 * Prints one JSON line when its clients are in place (`idle`, `slow`: they stay until the process
 * is killed) or done (`big`, `burst`, with the status of every answer).
 * @module
 */
const [portText, kind] = Deno.args;
const port = Number(portText);
const HOST = "127.0.0.1";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function report(record: Record<string, unknown>): void {
  console.log(JSON.stringify({ kind, ...record }));
}

/** Everything the server sends until it closes the connection (at most `limit` bytes kept). */
async function readAll(conn: Deno.Conn, limit = 1 << 24): Promise<string> {
  const chunks: string[] = [];
  let size = 0;
  const buffer = new Uint8Array(65536);
  try {
    while (true) {
      const read = await conn.read(buffer);
      if (read === null) break;
      if (size < limit) chunks.push(decoder.decode(buffer.subarray(0, read), { stream: true }));
      size += read;
    }
  } catch {
    // Reset by the server: what came before counts.
  }
  return chunks.join("");
}

function statuses(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/HTTP\/1\.1 (\d{3})/g)) {
    counts[match[1]] = (counts[match[1]] ?? 0) + 1;
  }
  return counts;
}

function merge(into: Record<string, number>, from: Record<string, number>): void {
  for (const [status, count] of Object.entries(from)) into[status] = (into[status] ?? 0) + count;
}

const held: Deno.Conn[] = [];
switch (kind) {
  case "idle": {
    for (let i = 0; i < 1000; i++) held.push(await Deno.connect({ hostname: HOST, port }));
    report({ open: held.length });
    // Held connections keep no operation pending: a timer keeps the process (and them) alive.
    setInterval(() => {}, 60_000);
    break;
  }
  case "slow": {
    const head = encoder.encode("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    for (let i = 0; i < 200; i++) {
      const conn = await Deno.connect({ hostname: HOST, port });
      await conn.write(head);
      held.push(conn);
    }
    setInterval(() => {
      for (const conn of held) conn.write(encoder.encode("a")).catch(() => {});
    }, 200);
    report({ open: held.length });
    break;
  }
  case "big": {
    const request = encoder.encode(
      `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(1 << 20)}\r\n\r\n`,
    );
    const counts: Record<string, number> = {};
    await Promise.all(Array.from({ length: 10 }, async () => {
      const conn = await Deno.connect({ hostname: HOST, port });
      // The server may answer and close before it has read everything: a failed write is fine.
      const written = conn.write(request).catch(() => 0);
      merge(counts, statuses(await readAll(conn)));
      await written;
      conn.close();
    }));
    report({ statuses: counts });
    break;
  }
  case "burst":
  case "queries": {
    const path = (i: number) => kind === "burst" ? "/metrics" : `/api/counts?filter=q${i}`;
    const one = (i: number) => `GET ${path(i)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    const last = (i: number) =>
      `GET ${path(i)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
    const counts: Record<string, number> = {};
    await Promise.all(Array.from({ length: 100 }, async (_, c) => {
      const requests = Array.from({ length: 100 }, (_, r) => (r < 99 ? one : last)(c * 100 + r));
      const pipelined = encoder.encode(requests.join(""));
      const conn = await Deno.connect({ hostname: HOST, port });
      await conn.write(pipelined);
      merge(counts, statuses(await readAll(conn)));
      conn.close();
    }));
    report({ statuses: counts });
    break;
  }
  default:
    console.error(`unknown kind ${kind}`);
    Deno.exit(2);
}

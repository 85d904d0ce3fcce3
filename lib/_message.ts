/**
 * Pieces of user-facing messages that several modules word the same way: a value shown in a
 * message, a time, a `host:port` address and the reason a file could not be read (pure).
 * @module
 */

/** Longest value text that {@link show} prints before cutting it short. */
const SHOW_MAX_CHARS = 60;

/** `text`, cut to at most `maxChars` characters ending in `...` when longer. */
export function shorten(text: string, maxChars: number): string {
  return text.length > maxChars ? text.slice(0, maxChars - 3) + "..." : text;
}

/** Show a value in a message: JSON, cut short (`nothing` for `undefined`). */
export function show(value: unknown, maxChars = SHOW_MAX_CHARS): string {
  let text: string;
  try {
    text = value === undefined ? "nothing" : JSON.stringify(value) ?? String(value);
  } catch {
    // A YAML alias inside its own anchor's node (`&a [*a]`) gives a value that contains itself.
    text = Array.isArray(value) ? "a list that contains itself" : "a value that contains itself";
  }
  return shorten(text, maxChars);
}

/** UNIX seconds as ISO 8601 UTC, without milliseconds when they are 0: `2024-01-01T00:05:00Z`. */
export function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

/** `host:port`, with an IPv6 address in brackets: `[::1]:6379`. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * Why a file could not be read or written: `no such file`, `permission denied`, `is a directory`,
 * else the error's message.
 */
export function fileErrorText(error: unknown): string {
  // By `code`, which Node's and Deno's errors both carry: this module also runs under Node.
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  return error instanceof Error ? error.message : String(error);
}

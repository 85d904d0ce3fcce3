/**
 * The rules for names that become parts of Redis keys: event IDs and group names (pure). They sit
 * next to the modules that build the keys (`lib/keys.ts`, `lib/layouts/periods_keys.ts`), and
 * load no YAML parser: `lib/group.ts` checks
 * every new event ID with {@link checkEventId}, and `lib/config.ts` checks the configured ones.
 * @module
 */
import { isReservedId, SEPARATOR } from "./keys.ts";
import { show } from "./_message.ts";

/**
 * Half of a UTF-16 surrogate pair without its other half. Keys are UTF-8 in Redis, where every
 * such half becomes U+FFFD: "\uD800", "\uDC00" and "\uFFFD" would share one counter.
 */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const NOT_UNICODE = "is not valid Unicode: it has half of a UTF-16 surrogate pair";

/** Line breaks: the text outputs (`ecl read`, Munin, `ecl log --stdin`) are one line per event. */
const LINE_BREAK = /[\r\n]/;
const NO_LINE_BREAK =
  "must not contain a line break: ecl read, Munin and ecl log --stdin work line by line";

/**
 * Check an event ID: a non-empty string (a YAML integer is taken as its decimal text, as the
 * original does) that does not start with `@`.
 *
 * @returns the ID as a string, or an error detail.
 */
export function checkEventId(value: unknown): { id: string } | { error: string } {
  const id = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof id !== "string") {
    return { error: `Expected an event ID (a string), got ${show(value)}` };
  }
  if (id === "") return { error: "Event ID must not be empty" };
  if (LONE_SURROGATE.test(id)) return { error: `Event ID ${show(id)} ${NOT_UNICODE}` };
  if (LINE_BREAK.test(id)) return { error: `Event ID ${show(id)} ${NO_LINE_BREAK}` };
  if (isReservedId(id)) {
    return {
      error: `Event ID ${
        show(id)
      } must not start with "@": such IDs are reserved for ecl's own keys`,
    };
  }
  return { id };
}

/** Check a group name: non-empty, no `:`, not starting with `@`. Returns an error detail or `undefined`. */
export function checkGroupName(name: string): string | undefined {
  if (name === "") return "Group name must not be empty";
  if (LONE_SURROGATE.test(name)) return `Group name ${show(name)} ${NOT_UNICODE}`;
  if (LINE_BREAK.test(name)) return `Group name ${show(name)} ${NO_LINE_BREAK}`;
  if (name.includes(SEPARATOR)) return `Group name ${show(name)} must not contain ":"`;
  if (isReservedId(name)) return `Group name ${show(name)} must not start with "@"`;
  return undefined;
}

/**
 * Munin output of `ecl read -f munin|munin-config|munin-suggest`: field names, graph and field
 * definitions, values, plugin name suggestions and the state file's text. Pure functions; the
 * reading and the state file's locking are in `lib/commands/_munin.ts`.
 * @module
 */
import { compareCodePoints } from "./text.ts";

/** `graph_category` of every ecl graph. */
export const MUNIN_CATEGORY = "ecl";
/** Longest field name made (Munin keeps one RRD file per field, named after it). */
export const MAX_FIELD_LENGTH = 64;
/** Hex digits of the hash that tells apart IDs whose cleaned names collide. */
const HASH_DIGITS = 6;
/** First line of a new state file. */
export const STATE_HEADER =
  "# ecl munin state: every event ID seen, one JSON string per line, oldest first; delete a line to forget an ID";

/**
 * A Munin field name (`[A-Za-z_][A-Za-z0-9_]*`) for an event ID: every character outside
 * `[A-Za-z0-9_]` becomes `_` (one per code point) and a leading digit gets a `_` before it, so
 * `200` is `_200` (Munin's own `clean_fieldname` would make it `_`); `root` (a Munin 2.0 bug)
 * becomes `__root`, as Munin does. Names longer than {@link MAX_FIELD_LENGTH} are cut and given the
 * hash of the ID, so that two long IDs with the same beginning keep apart.
 */
export function cleanFieldName(id: string): string {
  let name = id.replace(/[^A-Za-z0-9_]/gu, "_");
  if (/^[0-9]/.test(name)) name = "_" + name;
  if (name === "root") name = "__root";
  if (name.length > MAX_FIELD_LENGTH) name = withHash(name, id);
  return name;
}

/** FNV-1a (32 bits) of the UTF-8 bytes of `text`, as 8 hex digits. */
export function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/** `name` cut to leave room for `_` and the ID's hash, then the hash. */
function withHash(name: string, id: string, extra = ""): string {
  const suffix = `_${fnv1a(id).slice(0, HASH_DIGITS)}${extra}`;
  return name.slice(0, MAX_FIELD_LENGTH - suffix.length) + suffix;
}

/**
 * A unique Munin field name for each event ID, in the order given: an ID keeps its cleaned name
 * ({@link cleanFieldName}) unless an earlier ID took it; then it gets `_` and the first
 * {@link HASH_DIGITS} hex digits of the FNV-1a hash of the ID (and `_2`, `_3`, … in the unlikely
 * case that this is taken too). Earlier IDs never change name when IDs are added at the end, so
 * pass the IDs oldest first (see {@link orderIds}). Duplicates are ignored.
 */
export function fieldNames(ids: Iterable<string>): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const id of ids) {
    if (names.has(id)) continue;
    const base = cleanFieldName(id);
    let name = base;
    for (let attempt = 1; taken.has(name); attempt++) {
      name = withHash(base, id, attempt === 1 ? "" : `_${attempt}`);
    }
    names.set(id, name);
    taken.add(name);
  }
  return names;
}

/**
 * The order in which event IDs get their field names: the IDs of the state file (oldest first),
 * then the group's predeclared events in configured order, then the other IDs read, sorted by code
 * point. Appending the IDs that are new to the state file in this order keeps it the same next
 * time. Duplicates are dropped.
 */
export function orderIds(
  remembered: readonly string[],
  declared: readonly string[],
  read: Iterable<string>,
): string[] {
  const order = new Set<string>([...remembered, ...declared]);
  for (const id of [...read].sort(compareCodePoints)) order.add(id);
  return [...order];
}

const UNITS: readonly [number, string][] = [
  [86400, "day"],
  [3600, "hour"],
  [60, "minute"],
  [1, "second"],
];

/**
 * An interval length in words, for "events per …": the largest unit (day, hour, minute, second)
 * that divides it, e.g. `5 minutes`, `minute` (not `1 minute`), `90 seconds`, `2 hours`.
 */
export function intervalWords(seconds: number): string {
  for (const [unit, word] of UNITS) {
    if (seconds % unit === 0) {
      const count = seconds / unit;
      return count === 1 ? word : `${count} ${word}s`;
    }
  }
  return `${seconds} seconds`;
}

/**
 * Text that is safe on one line of the Munin protocol (labels, titles): control characters,
 * including newlines, and the Unicode line separators are written as JSON escapes (`\n`, `\u0085`).
 */
export function muninText(text: string): string {
  // deno-lint-ignore no-control-regex -- control characters are what this escapes
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (char) => {
    const escaped = JSON.stringify(char).slice(1, -1);
    return escaped.length > 1 ? escaped : `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/** IDs of `fields` sorted by code point: the order of the fields in the output. */
function sortedIds(fields: ReadonlyMap<string, string>): string[] {
  return [...fields.keys()].sort(compareCodePoints);
}

/** What {@link formatMuninConfig} describes. */
export interface MuninGraph {
  /** Group name. */
  readonly group: string;
  /** Interval as configured, e.g. `5m`. */
  readonly interval: string;
  /** Its length in seconds. */
  readonly seconds: number;
  /** Event ID → field name, of the fields to print. */
  readonly fields: ReadonlyMap<string, string>;
}

/** The output of `config`: graph attributes, then label, type and minimum of each field. */
export function formatMuninConfig(graph: MuninGraph): string {
  const group = muninText(graph.group);
  const per = intervalWords(graph.seconds);
  const lines = [
    `graph_title ecl: events of ${group} per ${per}`,
    `graph_category ${MUNIN_CATEGORY}`,
    `graph_vlabel events per ${per}`,
    "graph_args --base 1000 -l 0",
    `graph_info Events of ecl group ${group} counted per ${
      muninText(graph.interval)
    } interval: each value is the count of the last finished interval.`,
  ];
  for (const id of sortedIds(graph.fields)) {
    const field = graph.fields.get(id)!;
    lines.push(`${field}.label ${muninText(id)}`, `${field}.type GAUGE`, `${field}.min 0`);
  }
  return lines.map((line) => line + "\n").join("");
}

/** A value as Munin reads it: at most 3 decimals, `U` when unknown. */
export function muninValue(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return "U";
  return String(Math.round(value * 1000) / 1000);
}

/**
 * The output of a fetch: `<field>.value <count>` for each field, sorted by event ID; an event
 * missing from `values` (or `undefined` there) is `U`.
 */
export function formatMuninValues(
  fields: ReadonlyMap<string, string>,
  values: ReadonlyMap<string, number | undefined>,
): string {
  return sortedIds(fields).map((id) => `${fields.get(id)}.value ${muninValue(values.get(id))}\n`)
    .join("");
}

/** Group and interval names that make a plugin name Munin accepts everywhere (`[A-Za-z0-9_]`). */
const PLUGIN_GROUP = /^[A-Za-z0-9_]+$/;
const PLUGIN_INTERVAL = /^[A-Za-z0-9]+$/;

/** Output of `suggest`, and the (group, interval) pairs that cannot be suggested. */
export interface MuninSuggestions {
  /** `<group>_<interval>` lines, each ending in a newline. */
  readonly text: string;
  /** `<group>:<interval>` of the pairs whose names do not make a plugin name. */
  readonly skipped: readonly string[];
}

/**
 * One `<group>_<interval>` line per group and interval (the `ecl_` wildcard plugin's `suggest`),
 * for names made of `[A-Za-z0-9_]` (the interval without `.`); the plugin finds the interval after
 * the last `_`, so groups may contain `_`. Other pairs are listed in `skipped`.
 */
export function muninSuggestions(
  groups: Iterable<{ readonly name: string; readonly intervals: readonly { name: string }[] }>,
): MuninSuggestions {
  let text = "";
  const skipped: string[] = [];
  for (const group of groups) {
    for (const interval of group.intervals) {
      if (PLUGIN_GROUP.test(group.name) && PLUGIN_INTERVAL.test(interval.name)) {
        text += `${group.name}_${interval.name}\n`;
      } else {
        skipped.push(`${group.name}:${interval.name}`);
      }
    }
  }
  return { text, skipped };
}

/** The event IDs of a state file's text, and the lines that could not be read. */
export interface ParsedState {
  /** IDs in the order of the file, without duplicates. */
  readonly ids: string[];
  /** 1-based numbers and text of the lines that are neither comments, IDs nor empty. */
  readonly bad: readonly { line: number; text: string }[];
}

/**
 * Read a state file: one ID per line, as a JSON string (`"a\nb"`, what ecl writes) or, when the
 * line does not start with `"`, as the line itself (what the old plugin and hand edits write).
 * Empty lines and lines starting with `#` are skipped; so are (as `bad`) lines starting with `"`
 * that are not one JSON string and IDs starting with `@` (reserved for ecl's own keys).
 */
export function parseState(text: string): ParsedState {
  const ids = new Set<string>();
  const bad: { line: number; text: string }[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "" || line.startsWith("#")) return;
    let id: unknown = line;
    if (line.startsWith('"')) {
      try {
        id = JSON.parse(line);
      } catch {
        id = undefined;
      }
    }
    if (typeof id !== "string" || id === "" || id.startsWith("@")) {
      bad.push({ line: index + 1, text: line });
    } else {
      ids.add(id);
    }
  });
  return { ids: [...ids], bad };
}

/**
 * The new text of a state file: `current` as it is (comments, hand edits and unreadable lines
 * kept; a header when empty), then one JSON string line per ID of `added`.
 */
export function appendState(current: string, added: readonly string[]): string {
  let text = current === "" ? STATE_HEADER + "\n" : current;
  if (!text.endsWith("\n")) text += "\n";
  for (const id of added) text += JSON.stringify(id) + "\n";
  return text;
}

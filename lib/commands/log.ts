/**
 * `ecl log`: log one event from a shell script, or every line of standard input (`--stdin`);
 * succeeds only once Redis has the counts.
 */
import { type GroupConfig, loadConfig } from "../config.ts";
import { checkEventId } from "../ids.ts";
import { countError, parseCount } from "../count.ts";
import { NotFoundError } from "../errors.ts";
import type { EventGroup } from "../group.ts";
import { DEFAULT_CLOSE_TIMEOUT_MS, EventCountLogger, skipLayoutProbe } from "../logger.ts";
import { ExitCode } from "./_exit.ts";
import { printInfo, printWarning } from "./_io.ts";
import { findGroup } from "../lookup.ts";
import { parseStdinLine } from "./_stdin_line.ts";

/** Rejected lines reported one by one; beyond, only their number. */
const MAX_REJECTS_SHOWN = 20;

/** Options of {@link runLog}. */
export interface LogOptions {
  /** Config file. */
  config: string;
  /** Group name. */
  group: string;
  /** Event ID (not with `stdin`). */
  event: string | undefined;
  /** Count as typed on the command line. @default "1" */
  count: string | undefined;
  /** Read `EVENT` or `EVENT COUNT` lines from standard input. */
  stdin?: boolean;
}

/**
 * Parse a count typed on the command line.
 * @throws {RangeError} unless it is a whole number from 1 to 2^53 - 1
 */
export function parseCountArgument(text: string): number {
  const count = parseCount(text);
  if (count === undefined) throw new RangeError(countError(text));
  return count;
}

/** Why `event` cannot be logged into `group`, or `undefined` when it can. */
function eventProblem(group: GroupConfig, event: string): string | undefined {
  const checked = checkEventId(event);
  if ("error" in checked) return checked.error;
  if (!group.events.includes(event) && !group.autoDeclareEvents) {
    return `Event ${JSON.stringify(event)} not configured for group ${
      JSON.stringify(group.name)
    } and auto_declare_events is not enabled`;
  }
  return undefined;
}

/** Log and wait for Redis; returns the exit code. */
export async function runLog(options: LogOptions): Promise<number> {
  if (options.stdin && (options.event !== undefined || options.count !== undefined)) {
    throw new RangeError("Cannot log EVENT [COUNT] arguments and --stdin at once: choose one");
  }
  if (!options.stdin && options.event === undefined) {
    throw new RangeError("missing required argument 'EVENT' (or --stdin)");
  }
  const count = options.stdin ? 1 : parseCountArgument(options.count ?? "1");
  const config = await loadConfig(options.config);
  const group = findGroup(config, options.group);
  if (!options.stdin) {
    const problem = eventProblem(group, options.event!);
    if (problem !== undefined) {
      if ("error" in checkEventId(options.event)) {
        throw new RangeError(`Cannot log event: ${problem}`);
      }
      throw new NotFoundError(problem);
    }
  }
  // Only the group logged into. One event is written at close() whatever the group's cache
  // (`sync_interval`, `sync_limit`): in direct mode it needs no timer (in Deno, Node's: ~5 ms).
  const logged = options.stdin
    ? group
    : { ...group, syncIntervalMs: undefined, syncLimit: undefined };
  const ecl = new EventCountLogger(
    { ...config, groups: new Map([[group.name, logged]]) },
    { onWarning: printWarning },
  );
  skipLayoutProbe(ecl);
  try {
    // A Redis that takes the connection but never answers (frozen) fails here, not never.
    await ecl.ready({ timeoutMs: DEFAULT_CLOSE_TIMEOUT_MS });
    const eventGroup = ecl.getGroup(group.name)!;
    // close(), not flush(): it resends a write whose reply was lost until Redis answers. Exiting
    // non-zero after such a write would make a shell loop log again, and count twice.
    const settle = async () => {
      await ecl.close();
      return eventGroup.pendingSize === 0; // or close() warned how many counts it gave up
    };
    if (!options.stdin) {
      eventGroup.log(options.event!, count);
      if (!await settle()) return ExitCode.Redis;
      // A counter holding something that is not a count refused it (the warning says which).
      return eventGroup.rejectedCounts > 0 ? ExitCode.Failure : ExitCode.Ok;
    }
    ecl.closeOnSignals();
    return await logLines(group, eventGroup, settle);
  } finally {
    await ecl.close();
  }
}

/** Log every line of standard input, then `settle` them; the summary goes to stderr. */
async function logLines(
  config: GroupConfig,
  group: EventGroup,
  settle: () => Promise<boolean>,
): Promise<number> {
  const seen = new Set<string>();
  let events = 0;
  let rejected = 0;
  let lineNumber = 0;
  const reject = (why: string) => {
    rejected++;
    if (rejected <= MAX_REJECTS_SHOWN) printWarning(`stdin line ${lineNumber}: ${why}`);
  };
  const onLine = (line: string) => {
    lineNumber++;
    const parsed = parseStdinLine(line);
    if (parsed === undefined) return; // blank line
    if ("error" in parsed) return reject(parsed.error);
    if (!seen.has(parsed.event)) {
      const problem = eventProblem(config, parsed.event);
      if (problem !== undefined) return reject(problem);
      seen.add(parsed.event);
    }
    group.log(parsed.event, parsed.count);
    events += parsed.count;
  };
  const decoder = new TextDecoder();
  let tail = "";
  for await (const chunk of Deno.stdin.readable) {
    const text = tail + decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n", start)) {
      onLine(text.slice(start, end));
      start = end + 1;
    }
    tail = text.slice(start);
  }
  tail += decoder.decode();
  if (tail !== "") onLine(tail);
  if (!await settle()) return ExitCode.Redis;
  if (rejected > MAX_REJECTS_SHOWN) {
    printWarning(`... and ${rejected - MAX_REJECTS_SHOWN} more rejected lines`);
  }
  const refused = group.rejectedCounts;
  printInfo(
    `logged ${events - refused} events, ${seen.size} distinct, ${rejected} rejected` +
      (refused > 0 ? `, ${refused} refused by Redis (counter not a number)` : ""),
  );
  return rejected > 0 || refused > 0 ? ExitCode.Failure : ExitCode.Ok;
}

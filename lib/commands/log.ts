/** `ecl log`: log one event from a shell script; succeeds only once Redis has the count. */
import { checkEventId, loadConfig } from "../config.ts";
import { NotFoundError } from "../errors.ts";
import { EventCountLogger } from "../logger.ts";
import { ExitCode } from "./_exit.ts";
import { printWarning } from "./_io.ts";
import { findGroup } from "./_lookup.ts";

/** Options of {@link runLog}. */
export interface LogOptions {
  /** Config file. */
  config: string;
  /** Group name. */
  group: string;
  /** Event ID. */
  event: string;
  /** Count as typed on the command line. @default "1" */
  count: string | undefined;
}

/**
 * Parse a count typed on the command line.
 * @throws {RangeError} unless it is a whole number from 1 to 2^53 - 1
 */
export function parseCount(text: string): number {
  const count = /^\+?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new RangeError(
      `Cannot log count ${
        JSON.stringify(text)
      }: expected a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`,
    );
  }
  return count;
}

/** Log and wait for Redis; returns the exit code. */
export async function runLog(options: LogOptions): Promise<number> {
  const count = parseCount(options.count ?? "1");
  const config = await loadConfig(options.config);
  const group = findGroup(config, options.group);
  const checked = checkEventId(options.event);
  if ("error" in checked) throw new RangeError(`Cannot log event: ${checked.error}`);
  if (!group.events.includes(checked.id) && !group.autoDeclareEvents) {
    throw new NotFoundError(
      `Event ${JSON.stringify(checked.id)} not configured for group ${
        JSON.stringify(group.name)
      } and auto_declare_events is not enabled`,
    );
  }
  const ecl = new EventCountLogger(config, { onWarning: printWarning });
  try {
    await ecl.ready();
    const eventGroup = ecl.getGroup(group.name)!;
    eventGroup.log(checked.id, count);
    await eventGroup.flush();
  } finally {
    await ecl.close();
  }
  return ExitCode.Ok;
}

/** Finding the group and interval that a command names, with errors that list what exists. */
import type { EclConfig, GroupConfig, IntervalConfig } from "./config.ts";
import { NotFoundError } from "./errors.ts";

function where(config: EclConfig): string {
  return config.file === undefined ? "the configuration" : config.file;
}

/** The group called `name`. @throws {NotFoundError} listing the configured groups */
export function findGroup(config: EclConfig, name: string): GroupConfig {
  const group = config.groups.get(name);
  if (group === undefined) {
    throw new NotFoundError(
      `Group ${JSON.stringify(name)} not found in ${where(config)}: it has ${
        [...config.groups.keys()].map((g) => JSON.stringify(g)).join(", ")
      }`,
    );
  }
  return group;
}

/**
 * The interval called `name`, or the group's only interval when `name` is not given.
 * @throws {NotFoundError} when there is no such interval, or several and none was named
 */
export function findInterval(group: GroupConfig, name: string | undefined): IntervalConfig {
  const names = group.intervals.map((i) => i.name).join(", ");
  if (name === undefined) {
    if (group.intervals.length === 1) return group.intervals[0];
    throw new NotFoundError(
      `Group ${JSON.stringify(group.name)} has several intervals (${names}): choose one with -i`,
    );
  }
  const interval = group.intervals.find((i) => i.name === name);
  if (interval === undefined) {
    throw new NotFoundError(
      `Interval ${JSON.stringify(name)} not configured for group ${
        JSON.stringify(group.name)
      }: it has ${names}`,
    );
  }
  return interval;
}

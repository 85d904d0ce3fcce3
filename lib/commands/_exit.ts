/** Exit codes of the CLI and the one-line text of an error, chosen in one place. */
import { ConfigError, EclError, RedisError } from "../errors.ts";

/** Exit codes of `ecl`. */
export const ExitCode = {
  /** Success. */
  Ok: 0,
  /** Unknown group, interval or event; a failure that is not one of the below. */
  Failure: 1,
  /** Bad configuration or bad command-line arguments. */
  Usage: 2,
  /** Redis could not be reached or refused a command. */
  Redis: 3,
} as const;

/** The exit code for an error thrown by a command. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError) return ExitCode.Usage;
  if (error instanceof RangeError || error instanceof SyntaxError) return ExitCode.Usage;
  if (error instanceof RedisError) return ExitCode.Redis;
  // NotFoundError (an unknown group, interval or event) and everything else.
  return ExitCode.Failure;
}

/** Whether an error is one a user caused or can fix (printed without a stack trace). */
export function isUserError(error: unknown): boolean {
  return error instanceof EclError || error instanceof RangeError || error instanceof SyntaxError;
}

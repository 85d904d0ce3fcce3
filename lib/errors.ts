/**
 * Error classes of ecl. Every error a user can cause or fix carries a one-line message that names
 * what is at fault; the CLI prints it without a stack trace.
 * @module
 */

/** Base class of every error that ecl throws on purpose. */
export class EclError extends Error {
  /** Create an error with a one-line message. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A configuration value is missing, of the wrong type or out of range.
 *
 * The message starts with the file (when the config came from one) and the YAML path of the value
 * at fault, e.g. `ecl.yml: groups.requests.intervals[1]: Cannot parse interval "5x": …`.
 */
export class ConfigError extends EclError {
  /** YAML path of the value at fault, e.g. `groups.requests.intervals[1]` (empty for the whole document). */
  readonly path: string;
  /** File the configuration was read from, when it came from a file. */
  readonly file: string | undefined;

  /** Create a config error for the value at `path` in `file`. */
  constructor(
    detail: string,
    path: string,
    file?: string,
    options?: ErrorOptions,
  ) {
    super(
      [file, path, detail].filter((part) => part !== undefined && part !== "")
        .join(": "),
      options,
    );
    this.path = path;
    this.file = file;
  }
}

/** A group, interval or event that the configuration does not know was asked for. */
export class NotFoundError extends EclError {}

/** Redis could not be reached, or refused a command. The original error is the `cause`. */
export class RedisError extends EclError {
  /**
   * Whether the command may have run although it failed: the connection broke after it was sent.
   * `false` when Redis answered with an error, or the command was never sent.
   */
  readonly outcomeUnknown: boolean;
  /**
   * Whether Redis itself refused the command (an error reply such as `NOPERM` or `OOM`), as
   * opposed to a connection problem: retrying will not help until someone fixes the cause.
   */
  readonly refused: boolean;

  /** Create a Redis error; `outcomeUnknown` says whether the command may have run. */
  constructor(
    message: string,
    options?: ErrorOptions & { outcomeUnknown?: boolean; refused?: boolean },
  ) {
    super(message, options);
    this.outcomeUnknown = options?.outcomeUnknown ?? false;
    this.refused = options?.refused ?? false;
  }
}

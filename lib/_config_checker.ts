/**
 * The generic part of config validation: a {@link Checker} that checks one YAML value's type and
 * range and throws a {@link ConfigError} naming the file, the YAML path and the value at fault.
 * The sections (`lib/redis_config.ts`, `lib/config.ts`) say what to check.
 * @module
 */
import { ConfigError } from "./errors.ts";
import { show } from "./_message.ts";

/** A YAML mapping, before its members are checked. */
export type Mapping = Record<string, unknown>;

/** YAML path of a mapping member: `a.b`, or `a["b.c"]` when the key is not a plain word. */
export function member(path: string, key: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key);
  const part = plain ? key : `[${JSON.stringify(key)}]`;
  if (path === "") return part;
  return plain ? `${path}.${part}` : `${path}${part}`;
}

/** Checks values of one config file; each method returns the value or throws a ConfigError. */
export class Checker {
  constructor(readonly file: string | undefined) {}

  fail(path: string, detail: string): never {
    throw new ConfigError(detail, path, this.file);
  }

  mapping(value: unknown, path: string, allowed: readonly string[]): Mapping {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.fail(path, `Expected a mapping, got ${show(value)}`);
    }
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) {
        this.fail(
          member(path, key),
          `Unknown key ${show(key)}: expected one of ${allowed.join(", ")}`,
        );
      }
    }
    return value as Mapping;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== "string") this.fail(path, `Expected a string, got ${show(value)}`);
    return value;
  }

  boolean(value: unknown, path: string): boolean {
    if (typeof value !== "boolean") {
      this.fail(path, `Expected true or false, got ${show(value)}`);
    }
    return value;
  }

  integer(value: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      this.fail(path, `Expected a whole number from ${min} to ${max}, got ${show(value)}`);
    }
    return value;
  }

  positive(value: unknown, path: string): number {
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      this.fail(path, `Expected a number greater than 0, got ${show(value)}`);
    }
    return value;
  }

  list(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, `Expected a list, got ${show(value)}`);
    return value;
  }
}

/** Assertions on ConfigErrors, shared by the config tests. */
import assert from "node:assert/strict";
import { ConfigError, EclError } from "../lib/errors.ts";

/** What a ConfigError must say. */
export interface Expected {
  /** Exact `.path`. */
  path: string;
  /** Exact `.file`. */
  file?: string;
  /** Matched against the part of the message after `file: path: `. */
  detail: RegExp;
  /** Text (usually the bad value) that the message must contain. */
  shows?: string;
  /** Text that the message must not contain (a secret). */
  hides?: string;
}

export function checkConfigError(error: unknown, expected: Expected): true {
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
  assert.ok(error instanceof EclError);
  assert.equal(error.name, "ConfigError");
  assert.equal(error.path, expected.path);
  assert.equal(error.file, expected.file);
  assert.equal(error.message.includes("\n"), false, `one line: ${JSON.stringify(error.message)}`);
  const prefix = [expected.file, expected.path].filter((part) => part !== undefined && part !== "")
    .map((part) => `${part}: `).join("");
  assert.ok(error.message.startsWith(prefix), `${JSON.stringify(error.message)} starts ${prefix}`);
  assert.match(error.message.slice(prefix.length), expected.detail);
  if (expected.shows !== undefined) {
    assert.ok(error.message.includes(expected.shows), `${error.message} shows ${expected.shows}`);
  }
  if (expected.hides !== undefined) {
    assert.equal(error.message.includes(expected.hides), false, `${error.message} hides secret`);
  }
  return true;
}

export function assertConfigError(fn: () => unknown, expected: Expected): void {
  assert.throws(fn, (error: unknown) => checkConfigError(error, expected));
}

export async function assertConfigErrorAsync(fn: () => Promise<unknown>, expected: Expected) {
  await assert.rejects(fn, (error: unknown) => checkConfigError(error, expected));
}

/** Pure tests of the CLI's exit codes and of which errors are the user's (lib/commands/_exit.ts). */
import assert from "node:assert/strict";
import { ExitCode, exitCodeFor, isUserError } from "../lib/commands/_exit.ts";
import { ConfigError, EclError, NotFoundError, RedisError } from "../lib/errors.ts";

const CASES: [string, unknown, number, boolean][] = [
  ["ConfigError", new ConfigError("bad", "groups.g", "ecl.yml"), ExitCode.Usage, true],
  ["RangeError", new RangeError("bad count"), ExitCode.Usage, true],
  ["SyntaxError", new SyntaxError("bad interval"), ExitCode.Usage, true],
  ["RedisError", new RedisError("down"), ExitCode.Redis, true],
  ["NotFoundError", new NotFoundError("no group"), ExitCode.Failure, true],
  ["EclError", new EclError("state file"), ExitCode.Failure, true],
  ["Error", new Error("bug"), ExitCode.Failure, false],
  ["TypeError", new TypeError("bug"), ExitCode.Failure, false],
  ["a string", "thrown text", ExitCode.Failure, false],
];

Deno.test("exitCodeFor() and isUserError() for each kind of error", async (t) => {
  assert.deepEqual(ExitCode, { Ok: 0, Failure: 1, Usage: 2, Redis: 3 });
  for (const [name, error, code, user] of CASES) {
    await t.step(name, () => {
      assert.equal(exitCodeFor(error), code);
      assert.equal(isUserError(error), user);
    });
  }
});

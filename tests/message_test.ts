/**
 * Pure tests of the message pieces (lib/_message.ts) and of withTimeout (lib/_timeout.ts), one of
 * them in a child process (that its deadline never keeps a process alive).
 */
import assert from "node:assert/strict";
import { fileErrorText, hostPort, isoTime, shorten, show } from "../lib/_message.ts";
import { expiryText, withTimeout } from "../lib/_timeout.ts";
import { denoCommand } from "./_process.ts";
import { waitFor } from "./_wait.ts";

Deno.test("shorten() keeps short text and cuts long text to the limit, ending in ...", () => {
  assert.equal(shorten("abc", 5), "abc");
  assert.equal(shorten("abcde", 5), "abcde");
  assert.equal(shorten("abcdef", 5), "ab...");
  assert.equal(shorten("x".repeat(100), 40).length, 40);
});

Deno.test("show() prints JSON cut to 60 characters, and values JSON cannot print", () => {
  assert.equal(show("a"), '"a"');
  assert.equal(show(5), "5");
  assert.equal(show(null), "null");
  assert.equal(show(undefined), "nothing");
  assert.equal(show(Symbol("s")), "Symbol(s)");
  assert.equal(show("x".repeat(100)), `"${"x".repeat(56)}...`);
  assert.equal(show("x".repeat(100)).length, 60);
  assert.equal(show("abcdef", 5), '"a...');
  const list: unknown[] = [];
  list.push(list);
  assert.equal(show(list), "a list that contains itself");
  const map: Record<string, unknown> = {};
  map.self = map;
  assert.equal(show(map), "a value that contains itself");
});

Deno.test("isoTime() prints UNIX seconds as UTC without zero milliseconds", () => {
  assert.equal(isoTime(0), "1970-01-01T00:00:00Z");
  assert.equal(isoTime(1_700_000_100), "2023-11-14T22:15:00Z");
  assert.equal(isoTime(1.5), "1970-01-01T00:00:01.500Z");
});

Deno.test("hostPort() puts IPv6 addresses in brackets", () => {
  assert.equal(hostPort("127.0.0.1", 6379), "127.0.0.1:6379");
  assert.equal(hostPort("redis.example", 1), "redis.example:1");
  assert.equal(hostPort("::1", 9464), "[::1]:9464");
  assert.equal(hostPort("fe80::1%eth0", 80), "[fe80::1%eth0]:80");
});

Deno.test("fileErrorText() words a missing file, a denied one and a directory, else the message", async () => {
  const missing = await Deno.readTextFile("/nonexistent/ecl").catch((error) => error);
  assert.equal(fileErrorText(missing), "no such file");
  const directory = await Deno.readTextFile("/").catch((error) => error);
  assert.equal(fileErrorText(directory), "is a directory");
  assert.equal(fileErrorText(Object.assign(new Error("x"), { code: "ENOENT" })), "no such file");
  assert.equal(
    fileErrorText(Object.assign(new Error("EACCES: x"), { code: "EACCES" })),
    "permission denied",
  );
  assert.equal(fileErrorText(new Error("Is a directory")), "Is a directory");
  assert.equal(
    fileErrorText(Object.assign(new Error("EISDIR: x"), { code: "EISDIR" })),
    "is a directory",
  );
  assert.equal(fileErrorText("odd"), "odd");
  assert.equal(fileErrorText(null), "null");
});

Deno.test("withTimeout() gives the value in time, else the fallback, and clears its timer", async () => {
  assert.equal(await withTimeout(Promise.resolve("value"), 10_000, () => "fallback"), "value");
  let release = () => {};
  const never = new Promise<string>((resolve) => release = () => resolve("late"));
  assert.equal(await withTimeout(never, 1, () => "fallback"), "fallback");
  release();
  await assert.rejects(withTimeout(Promise.reject(new Error("boom")), 10_000, () => "x"), /boom/);
  // The test's sanitizers fail it if a 10 s timer were left running.
});

Deno.test("withTimeout()'s deadline does not keep a process alive once the race is decided", async () => {
  const module = new URL("../lib/_timeout.ts", import.meta.url).href;
  const script = `import { withTimeout } from ${JSON.stringify(module)};
    console.log(await withTimeout(Promise.resolve("value"), 600_000, () => "fallback"));
    console.log(await withTimeout(new Promise(() => {}), 1, () => "fallback"));`;
  const child = denoCommand(["eval", script]).spawn();
  let exited = false;
  const output = child.output().finally(() => exited = true);
  try {
    // Far less than the 600 s deadline: the child ends with its script.
    await waitFor(
      "exit of a process whose withTimeout() was decided",
      () => Promise.resolve(exited),
    );
  } finally {
    if (!exited) child.kill();
  }
  const { code, stdout } = await output;
  assert.deepEqual([code, new TextDecoder().decode(stdout)], [0, "value\nfallback\n"]);
});

Deno.test("withTimeout() with WaitOptions: a timeout, an abort, none (the promise as it is)", async () => {
  const never = new Promise<string>(() => {});
  const reasons: unknown[] = [];
  const expire = (reason: unknown) => {
    reasons.push(reason);
    throw new Error("expired");
  };
  await assert.rejects(withTimeout(never, { timeoutMs: 1 }, expire), /expired/);
  assert.equal((reasons[0] as Error).name, "TimeoutError");
  assert.equal(expiryText({ timeoutMs: 1500 }, reasons[0]), "within 1.5 s");
  const controller = new AbortController();
  const aborted = withTimeout(never, { timeoutMs: 10_000, signal: controller.signal }, expire);
  controller.abort(new Error("stop"));
  await assert.rejects(aborted, /expired/);
  assert.equal((reasons[1] as Error).message, "stop");
  assert.equal(expiryText({ timeoutMs: 10_000 }, reasons[1]), "before the wait was aborted");
  await assert.rejects(withTimeout(never, { signal: AbortSignal.abort() }, expire), /expired/);
  assert.equal(reasons.length, 3);
  const value = Promise.resolve("value");
  assert.equal(withTimeout(value, {}, expire), value);
  // A rejection after the deadline is not left unhandled.
  let fail = (_: Error) => {};
  const late = new Promise<string>((_, reject) => fail = reject);
  await assert.rejects(withTimeout(late, { timeoutMs: 1 }, expire), /expired/);
  fail(new Error("late"));
  await new Promise((resolve) => setTimeout(resolve, 0));
});

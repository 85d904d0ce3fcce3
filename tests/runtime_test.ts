/**
 * lib/_runtime.ts in Deno (the npm build's tests cover Node): timers let go of the process,
 * signals, host name and process ID — without any `node:` module.
 */
import assert from "node:assert/strict";
import { hostname, pid } from "../lib/_runtime.ts";
import { denoCommand, finish, spawn } from "./_process.ts";

const RUNTIME = new URL("../lib/_runtime.ts", import.meta.url).href;
const TIMER = new URL("../lib/_timer.ts", import.meta.url).href;

/** `deno eval` of `code`, which may import `unrefTimer` etc. as `R` and `runAt` from `T`. */
function evalCommand(code: string): Deno.Command {
  return denoCommand([
    "eval",
    `import * as R from "${RUNTIME}"; import * as T from "${TIMER}";\n${code}`,
  ]);
}

Deno.test("unrefTimer() and runAt(): timers an hour away do not keep the process alive", async () => {
  const result = await finish(
    evalCommand(`
      R.unrefTimer(setTimeout(() => console.log("timeout fired"), 3_600_000));
      R.unrefTimer(setInterval(() => console.log("interval fired"), 3_600_000));
      T.runAt(Date.now() + 3_600_000, () => console.log("runAt fired"));
      console.log("armed");`),
    { name: "a process with three unref'd timers" },
  );
  assert.deepEqual(result, { code: 0, stdout: "armed\n", stderr: "" });
});

Deno.test("unrefTimer(): the timer still fires while something else keeps the process alive", async () => {
  const result = await finish(
    evalCommand(`
      const alive = setInterval(() => {}, 1000);
      R.unrefTimer(setTimeout(() => {
        console.log("fired");
        clearInterval(alive);
      }, 10));`),
    { name: "a process with an unref'd timer and a ref'd one" },
  );
  assert.deepEqual(result, { code: 0, stdout: "fired\n", stderr: "" });
});

Deno.test("onSignal(), offSignal(), raiseSignal(): the handler runs, then the signal ends the process", async () => {
  const child = spawn(
    evalCommand(`
      setInterval(() => {}, 1 << 30);
      const never = () => console.log("SIGHUP handler called");
      R.onSignal("SIGHUP", never);
      R.offSignal("SIGHUP", never);
      const handler = () => {
        console.log("SIGTERM handled");
        R.offSignal("SIGTERM", handler);
        R.raiseSignal("SIGTERM");
      };
      R.onSignal("SIGTERM", handler);
      R.onSignal("SIGHUP", () => console.log("SIGHUP handled"));
      console.log("ready");`),
    "a process handling SIGTERM",
  );
  await child.waitForLine("stdout", /^ready$/);
  child.kill("SIGHUP");
  await child.waitForLine("stdout", /^SIGHUP handled$/);
  child.kill("SIGTERM");
  const result = await child.exit();
  // 128 + 15: ended by SIGTERM, after its handler ran.
  assert.deepEqual(result, {
    code: 143,
    stdout: "ready\nSIGHUP handled\nSIGTERM handled\n",
    stderr: "",
  });
});

Deno.test("hostname() and pid() are Deno's", () => {
  assert.equal(hostname(), Deno.hostname());
  assert.equal(pid(), Deno.pid);
});

/** The master lease's expiry in `Leadership`, on a clock the test controls and a scripted store. */
import assert from "node:assert/strict";
import { RedisError } from "../lib/errors.ts";
import { Leadership, LEASE_TTL_MS } from "../lib/leadership.ts";
import type { Store } from "../lib/store.ts";

/** A store whose lease commands answer as `holdLease` says; the clock moves while they run. */
function fakeStore(holdLease: () => Promise<boolean>): Store {
  return { holdLease, releaseLease: () => Promise.resolve() } as unknown as Store;
}

Deno.test("Leadership: the lease lapses LEASE_TTL_MS after its renewal was sent", async () => {
  let clock = 1_000_000;
  const changes: boolean[] = [];
  // The reply comes 1 s after the request: the lease is counted from the request.
  const store = fakeStore(() => {
    clock += 1000;
    return Promise.resolve(true);
  });
  const leadership = new Leadership(store, "m1", {
    now: () => clock,
    onChange: (leader) => changes.push(leader),
  });
  const sent = clock;
  await leadership.start();
  assert.equal(leadership.isLeader, true);
  clock = sent + LEASE_TTL_MS - 1;
  assert.equal(leadership.isLeader, true);
  clock = sent + LEASE_TTL_MS;
  assert.equal(leadership.isLeader, false);
  assert.deepEqual(changes, [true, false]);
  await leadership.stop();
});

Deno.test("Leadership: another holder's lease makes a standby", async () => {
  const changes: boolean[] = [];
  const leadership = new Leadership(fakeStore(() => Promise.resolve(false)), "m2", {
    now: () => 0,
    onChange: (leader) => changes.push(leader),
  });
  await leadership.start();
  assert.equal(leadership.isLeader, false);
  assert.deepEqual(changes, []);
  await leadership.stop();
});

Deno.test("Leadership.start(): a refusal fails; an outage is reported and waited out", async () => {
  const refused = new RedisError("NOPERM", { refused: true });
  const refusing = new Leadership(fakeStore(() => Promise.reject(refused)), "m3", { now: () => 0 });
  await assert.rejects(refusing.start(), (error) => error === refused);
  await refusing.stop();

  const errors: string[] = [];
  const down = new Leadership(
    fakeStore(() => Promise.reject(new RedisError("Cannot reach Redis"))),
    "m4",
    { now: () => 0, onError: (message) => errors.push(message) },
  );
  await down.start();
  assert.equal(down.isLeader, false);
  assert.deepEqual(errors, ["Cannot reach Redis"]);
  await down.stop();
});

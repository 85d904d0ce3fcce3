/** Pure tests of the rules for event IDs and group names (lib/ids.ts). */
import assert from "node:assert/strict";
import { checkEventId, checkGroupName } from "../lib/ids.ts";

Deno.test("checkGroupName() returns an error detail or undefined", () => {
  assert.equal(checkGroupName("requests"), undefined);
  assert.equal(checkGroupName("a@b"), undefined);
  assert.equal(checkGroupName(""), "Group name must not be empty");
  assert.equal(checkGroupName("a:b"), 'Group name "a:b" must not contain ":"');
  assert.equal(checkGroupName("@g"), 'Group name "@g" must not start with "@"');
});

Deno.test("checkEventId() returns the ID as a string or an error detail", () => {
  assert.deepEqual(checkEventId("a:b"), { id: "a:b" });
  assert.deepEqual(checkEventId(7), { id: "7" });
  assert.deepEqual(checkEventId(""), { error: "Event ID must not be empty" });
  assert.deepEqual(checkEventId(undefined), {
    error: "Expected an event ID (a string), got nothing",
  });
  assert.deepEqual(checkEventId("@x"), {
    error: 'Event ID "@x" must not start with "@": such IDs are reserved for ecl\'s own keys',
  });
});

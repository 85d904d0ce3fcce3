/**
 * Pure tests of the Redis key layout shared with the Python `event_count_logger`:
 * `<group>:<interval>:cur|last:<event>` and `<group>:<interval>:cur:@ts`.
 */
import assert from "node:assert/strict";
import {
  counterKey,
  CUR,
  escapeGlob,
  eventScanPattern,
  isReservedId,
  type KeyParts,
  LAST,
  MASTER_LEASE_KEY,
  parseKey,
  RESERVED_PREFIX,
  SEPARATOR,
  slotPrefix,
  TIMESTAMP_ID,
  timestampKey,
} from "../lib/keys.ts";

Deno.test("keys constants match the Python layout", () => {
  assert.equal(CUR, "cur");
  assert.equal(LAST, "last");
  assert.equal(TIMESTAMP_ID, "@ts");
  assert.equal(RESERVED_PREFIX, "@");
  assert.equal(SEPARATOR, ":");
  assert.equal(MASTER_LEASE_KEY, "@ecl:master");
});

Deno.test("slotPrefix() ends with the separator", () => {
  assert.equal(slotPrefix("requests", "5m", CUR), "requests:5m:cur:");
  assert.equal(slotPrefix("requests", "1h", LAST), "requests:1h:last:");
});

Deno.test("counterKey() builds <group>:<interval>:<slot>:<event>", async (t) => {
  const cases: [string, string, "cur" | "last", string, string][] = [
    ["requests", "5m", "cur", "req1", "requests:5m:cur:req1"],
    ["requests", "5m", "last", "req1", "requests:5m:last:req1"],
    ["web", "0.5m", "cur", "GET", "web:0.5m:cur:GET"],
    ["web", "10S", "cur", "a:b:c", "web:10S:cur:a:b:c"],
    ["web", "1h", "last", "žluťoučký 🐎", "web:1h:last:žluťoučký 🐎"],
    ["g?", "5m", "cur", "x*", "g?:5m:cur:x*"],
  ];
  for (const [group, interval, slot, event, key] of cases) {
    await t.step(key, () => {
      assert.equal(counterKey(group, interval, slot, event), key);
    });
  }
});

Deno.test("timestampKey() builds <group>:<interval>:<slot>:@ts", () => {
  assert.equal(timestampKey("requests", "5m", CUR), "requests:5m:cur:@ts");
  assert.equal(timestampKey("requests", "5m", LAST), "requests:5m:last:@ts");
  assert.equal(timestampKey("requests", "5m", CUR), counterKey("requests", "5m", CUR, "@ts"));
});

Deno.test("isReservedId() is true only for IDs starting with @", async (t) => {
  const cases: [string, boolean][] = [
    ["@ts", true],
    ["@", true],
    ["@anything", true],
    ["ts", false],
    ["a@b", false],
    [" @ts", false],
    ["", false],
  ];
  for (const [event, reserved] of cases) {
    await t.step(JSON.stringify(event), () => {
      assert.equal(isReservedId(event), reserved);
    });
  }
});

Deno.test("parseKey() splits on the first three separators only", async (t) => {
  const cases: [string, KeyParts][] = [
    ["requests:5m:cur:req1", { group: "requests", interval: "5m", slot: "cur", event: "req1" }],
    ["requests:5m:last:req1", { group: "requests", interval: "5m", slot: "last", event: "req1" }],
    ["requests:5m:cur:@ts", { group: "requests", interval: "5m", slot: "cur", event: "@ts" }],
    ["web:1h:cur:a:b", { group: "web", interval: "1h", slot: "cur", event: "a:b" }],
    ["web:1h:cur::", { group: "web", interval: "1h", slot: "cur", event: ":" }],
    ["web:1h:last:GET:/api:v2", {
      group: "web",
      interval: "1h",
      slot: "last",
      event: "GET:/api:v2",
    }],
    ["web:1h:cur:cur:last", { group: "web", interval: "1h", slot: "cur", event: "cur:last" }],
    ["ü:5m:cur:žluťoučký 🐎", { group: "ü", interval: "5m", slot: "cur", event: "žluťoučký 🐎" }],
  ];
  for (const [key, parts] of cases) {
    await t.step(key, () => {
      assert.deepEqual(parseKey(key), parts);
    });
  }
});

Deno.test("parseKey() inverts counterKey() and timestampKey()", async (t) => {
  const events = ["req1", "a:b", "::", "a:cur:b", "x:last:", "žluť:🐎", "*?[]\\", "@ts"];
  for (const slot of [CUR, LAST]) {
    for (const event of events) {
      await t.step(`${slot} ${JSON.stringify(event)}`, () => {
        const key = counterKey("requests", "5m", slot, event);
        assert.deepEqual(parseKey(key), { group: "requests", interval: "5m", slot, event });
      });
    }
    await t.step(`${slot} timestamp`, () => {
      assert.deepEqual(parseKey(timestampKey("g", "1h", slot)), {
        group: "g",
        interval: "1h",
        slot,
        event: TIMESTAMP_ID,
      });
    });
  }
});

Deno.test("parseKey() returns undefined for keys that are not ecl keys", async (t) => {
  const keys = [
    "",
    "plain",
    "a:b",
    "a:b:cur",
    "requests:5m:cur", // no event part
    "requests:5m:next:req1",
    "requests:5m:CUR:req1",
    "requests:5m:current:req1",
    "requests:5m::req1",
    "requests:cur:req1",
    MASTER_LEASE_KEY,
  ];
  for (const key of keys) {
    await t.step(JSON.stringify(key), () => {
      assert.equal(parseKey(key), undefined);
    });
  }
});

Deno.test("escapeGlob() escapes * ? [ ] and \\ and nothing else", async (t) => {
  const cases: [string, string][] = [
    ["plain", "plain"],
    ["*", "\\*"],
    ["?", "\\?"],
    ["[", "\\["],
    ["]", "\\]"],
    ["\\", "\\\\"],
    ["a[b]", "a\\[b\\]"],
    ["[^@]*", "\\[^@\\]\\*"],
    ["x*y?z", "x\\*y\\?z"],
    ["back\\slash*", "back\\\\slash\\*"],
    ["^-:@.", "^-:@."],
    ["žluť", "žluť"],
    ["", ""],
  ];
  for (const [text, escaped] of cases) {
    await t.step(JSON.stringify(text), () => {
      assert.equal(escapeGlob(text), escaped);
    });
  }
});

Deno.test("eventScanPattern() escapes the group and skips reserved IDs", async (t) => {
  const cases: [string, string, "cur" | "last", string][] = [
    ["requests", "5m", "cur", "requests:5m:cur:[^@]*"],
    ["requests", "1h", "last", "requests:1h:last:[^@]*"],
    ["g?", "5m", "cur", "g\\?:5m:cur:[^@]*"],
    ["a[b]", "5m", "last", "a\\[b\\]:5m:last:[^@]*"],
    ["x*", "10s", "cur", "x\\*:10s:cur:[^@]*"],
    ["back\\slash", "5m", "cur", "back\\\\slash:5m:cur:[^@]*"],
  ];
  for (const [group, interval, slot, pattern] of cases) {
    await t.step(`group ${JSON.stringify(group)} ${slot}`, () => {
      assert.equal(eventScanPattern(group, interval, slot), pattern);
    });
  }
});

/** Redis `stringmatchlen` for the subset of glob that ecl's patterns use. */
function globMatch(pattern: string, text: string): boolean {
  let source = "^";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === "\\") source += RegExp.escape(pattern[++i]);
    else if (char === "*") source += "[\\s\\S]*";
    else if (char === "?") source += "[\\s\\S]";
    else if (char === "[") {
      const end = pattern.indexOf("]", i);
      const body = pattern.slice(i + 1, end);
      source += body.startsWith("^")
        ? `[^${RegExp.escape(body.slice(1))}]`
        : `[${RegExp.escape(body)}]`;
      i = end;
    } else source += RegExp.escape(char);
  }
  return new RegExp(source + "$", "u").test(text);
}

Deno.test("eventScanPattern() matches only its own group's event keys", async (t) => {
  const cases: [string, string, boolean][] = [
    ["g?", "g?:5m:cur:a", true],
    ["g?", "gx:5m:cur:a", false],
    ["a[b]", "a[b]:5m:cur:a", true],
    ["a[b]", "ab:5m:cur:a", false],
    ["x*", "x*:5m:cur:a:b", true],
    ["x*", "xyz:5m:cur:a", false],
    ["x*", "x*:5m:cur:@ts", false],
    ["x*", "x*:5m:last:a", false],
    ["x*", "x*:5m:cur:", false],
  ];
  for (const [group, key, matches] of cases) {
    await t.step(`${JSON.stringify(group)} vs ${JSON.stringify(key)}`, () => {
      assert.equal(globMatch(eventScanPattern(group, "5m", CUR), key), matches);
    });
  }
});

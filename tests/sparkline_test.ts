/** Pure tests of the terminal sparkline (lib/format/sparkline.ts). */
import assert from "node:assert/strict";
import { SPARK_GAP, sparkline, sparklineSuffix } from "../lib/format/sparkline.ts";

Deno.test("sparkline: 0 is the lowest bar, the largest value the highest", () => {
  assert.equal(sparkline([0, 1, 5, 10]), "▁▂▅█");
  assert.equal(sparkline([7]), "█");
  assert.equal(sparkline([0, 0, 0]), "▁▁▁");
  assert.equal(sparkline([]), "");
});

Deno.test("sparkline: seven equal steps above 0, any count above 0 stands out from none", () => {
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), "▁▂▃▄▅▆▇█");
  assert.equal(sparkline([1, 1_000_000]), "▂█");
  assert.equal(sparkline([0, 14, 13, 2]), "▁██▂");
});

Deno.test("sparkline: missing and non-finite values are gaps; negative values are the lowest bar", () => {
  assert.equal(
    sparkline([undefined, 4, null, NaN, 2, -3]),
    `${SPARK_GAP}█${SPARK_GAP}${SPARK_GAP}▅▁`,
  );
  assert.equal(sparkline([Infinity, 2]), `${SPARK_GAP}█`);
});

Deno.test("sparklineSuffix: only on a terminal", () => {
  assert.equal(sparklineSuffix([1, 2], true), " ▅█");
  assert.equal(sparklineSuffix([1, 2], false), "");
  assert.equal(sparklineSuffix([], true), "");
});

/**
 * `deno task bench`: every workload of the benchmark suite, against one private redis-server, and
 * a table of workload | median | min–max | target | pass/miss | reference. Exits non-zero only
 * when counts were wrong (or a workload could not run); a missed target is printed, not failed.
 *
 * Usage: deno task bench [--runs N] [--quick] [--json] [--only NAME[,NAME...]] [--events N]
 * @module
 */
import { benchMain, type Workload } from "./_util.ts";
import { workloads as cached } from "./cached.ts";
import { workloads as direct } from "./direct.ts";
import { workloads as dynamic } from "./dynamic.ts";
import { workloads as multiprocess } from "./multiprocess.ts";
import { workloads as rotate } from "./rotate.ts";
import { workloads as oneshot } from "./oneshot.ts";
import { workloads as memory } from "./memory.ts";
import { workloads as stdin } from "./stdin.ts";
import { workloads as cluster } from "./cluster.ts";
import { workloads as idle } from "./idle.ts";
import { workloads as periods } from "./periods.ts";
import { workloads as layouts } from "./layouts.ts";

/** Every workload, in table order. */
export const workloads: Workload[] = [
  ...cached,
  ...direct,
  ...dynamic,
  ...multiprocess,
  ...rotate,
  ...oneshot,
  ...memory,
  ...stdin,
  ...cluster,
  ...idle,
  ...periods,
  ...layouts,
];

if (import.meta.main) await benchMain(workloads);

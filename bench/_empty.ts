// An empty program: the baseline of the one-shot workload (what `deno run` alone costs).
export {};

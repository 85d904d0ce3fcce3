// Baseline of the idle-master workload: a Deno process that wakes once a second and does nothing.
setInterval(() => {}, 1000);

/**
 * The permissions of the compiled `ecl` binaries, as narrow as the documented flows allow (the
 * README's "Building binaries" explains them; tests/flows_test.ts and tests/munin_test.ts run every
 * flow from the bundle with exactly these):
 *
 * - net: Redis (any host, from the config) and `ecl serve`'s listening address;
 * - read: the config file, TLS files and the Munin state file, wherever the user keeps them;
 * - write: only the Munin state file given with `ecl read --state` (`$MUNIN_PLUGSTATE/<plugin>.ids`
 *   by default), its `.lock` and a temporary file beside it; its directory is known at run time
 *   only, and a binary's permissions are fixed when it is built;
 * - env: ECL_REDIS_URL only; other variables read as unset (`--ignore-env`: the libraries'
 *   debug switches such as yaml's LOG_TOKENS), so no secret of the environment is readable;
 * - sys=hostname: the host name, which goes into the master's lease ID.
 *
 * No subprocesses (run), no FFI, no remote imports.
 */
export const PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env=ECL_REDIS_URL",
  "--ignore-env",
  "--allow-sys=hostname",
] as const;

/**
 * The permissions of the compiled `ecl` binaries: Redis (net), the config and TLS files (read),
 * ECL_REDIS_URL (env), and the host name, which goes into the master's lease ID (sys=hostname).
 * A test runs every command with exactly these.
 */
export const PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-env",
  "--allow-sys=hostname",
] as const;

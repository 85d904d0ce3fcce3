/**
 * What the npm build compiles in place of `resp.ts` (npm/tsconfig.json, `moduleSuffixes`): ecl's
 * RESP client runs on Deno's sockets, and under Node `connection.ts` uses node-redis for every
 * server, so this is never called.
 * @module
 */
import type { RedisConfig } from "./redis_config.ts";
import type { Connection, ConnectionOptions, TlsPems } from "./connection.ts";

/** Deno only: fails under Node. */
export function respConnection(
  _config: RedisConfig,
  _options: ConnectionOptions,
  _tls: TlsPems | undefined,
): Connection {
  throw new Error("ecl's RESP client runs in Deno only");
}

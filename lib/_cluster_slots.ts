/**
 * The one use of a private node-redis field: making a cluster client re-read its slot map after
 * a node failed. Kept alone here so that a node-redis upgrade that renames it breaks one file.
 * @module
 */

/**
 * Re-read the slot map of a node-redis cluster client, starting with `rootNode` (node-redis falls
 * back to every root node in turn). node-redis does so by itself only on MOVED/ASK replies, which
 * a dead master never sends; until then its slots' commands would fail. Never throws: when the
 * cluster is still down, the next failure tries again.
 */
export function rediscoverSlots(client: unknown, rootNode: unknown): void {
  const slots = (client as {
    _slots?: { rediscover(startWith: { options: unknown }): Promise<void> };
  })._slots;
  slots?.rediscover({ options: rootNode }).catch(() => {
    // Still down: the next failure tries again.
  });
}

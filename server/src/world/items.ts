/**
 * Items a player can pick up (the durable action of the protocol's `pickup`). Ids follow the
 * protocol's item id rule (a-z, 0-9, _; at most 32 bytes); the inventory table stores them as text.
 */
export const ITEMS: ReadonlySet<string> = new Set(['herb', 'ore', 'coin', 'gem', 'potion']);

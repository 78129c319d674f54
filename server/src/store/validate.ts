/** Argument checks every Store shares, so all implementations refuse the same bad calls. */
import type { CharacterState, InventoryItem } from './store.ts';

/** Largest quantity one grant may add (fits the SQL integer column with room to spare). */
export const MAX_GRANT_QUANTITY = 1_000_000;

/** Throws a RangeError naming the bad argument; a caller bug, never a player's input. */
export function checkGrant(characterId: string, itemId: string, quantity: number, state?: CharacterState): void {
  if (typeof itemId !== 'string' || itemId.length === 0 || itemId.length > 64) {
    throw new RangeError(`grantItem: itemId must be 1..64 characters, got ${JSON.stringify(itemId)}`);
  }
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_GRANT_QUANTITY) {
    throw new RangeError(`grantItem: quantity must be an integer in 1..${MAX_GRANT_QUANTITY}, got ${quantity}`);
  }
  if (state && state.id !== characterId) {
    throw new RangeError(`grantItem: state.id ${state.id} is not the character ${characterId}`);
  }
}

/** Inventory order every Store returns: by item id, code point by code point (collations differ). */
export const byItemId = (a: InventoryItem, b: InventoryItem): number => (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0);

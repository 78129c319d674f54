/**
 * Smooth movement of other entities between snapshots. A client shows each entity gliding from
 * where it was shown when a snapshot arrived to where that snapshot puts it, over one snapshot
 * interval (1000 / the welcome's patchRate ms): other players are drawn about one interval in the
 * past, and at 10 snapshots a second they move every frame instead of jumping ten times a second.
 * Starting from the shown position (not the previous snapshot's) keeps an early or late snapshot
 * from making an entity jump back or skip ahead.
 *
 * Plain functions over a mutable record, so a page can keep one per entity and a bot can keep one
 * per target without allocating.
 */

/** Where an entity is gliding from and to, and since when (ms on the caller's clock). */
export interface Glide {
  fromX: number;
  fromY: number;
  toX: number;
  toY: number;
  /** When the glide started. */
  at: number;
}

/** A glide resting at (x, y). */
export function restingAt(x: number, y: number, at: number): Glide {
  return { fromX: x, fromY: y, toX: x, toY: y, at };
}

/**
 * A new snapshot put the entity at (x, y) at time `now`: it glides there from where it is shown at
 * `now`. An entity further away than `snapDistance` (a respawn, a teleport) jumps instead.
 */
export function glideTo(g: Glide, x: number, y: number, now: number, intervalMs: number, snapDistance = Infinity): void {
  const f = progress(g, now, intervalMs);
  const shownX = g.fromX + (g.toX - g.fromX) * f;
  const shownY = g.fromY + (g.toY - g.fromY) * f;
  const far = Math.abs(x - shownX) > snapDistance || Math.abs(y - shownY) > snapDistance;
  g.fromX = far ? x : shownX;
  g.fromY = far ? y : shownY;
  g.toX = x;
  g.toY = y;
  g.at = now;
}

/** How far along its glide the entity is at `now`, 0 to 1. */
export function progress(g: Glide, now: number, intervalMs: number): number {
  if (intervalMs <= 0) return 1;
  const f = (now - g.at) / intervalMs;
  return f <= 0 ? 0 : f >= 1 ? 1 : f;
}

/** The x where the entity is shown at `now`. */
export function shownX(g: Glide, now: number, intervalMs: number): number {
  return g.fromX + (g.toX - g.fromX) * progress(g, now, intervalMs);
}

/** The y where the entity is shown at `now`. */
export function shownY(g: Glide, now: number, intervalMs: number): number {
  return g.fromY + (g.toY - g.fromY) * progress(g, now, intervalMs);
}

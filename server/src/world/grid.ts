/**
 * Interest management: a uniform grid per zone over entity slots, so "who is near (x, y)" checks a
 * handful of cells instead of every entity. Cells are intrusive doubly linked lists in typed arrays:
 * inserting, moving and querying allocate nothing.
 */

/** Most cells per side: bounds memory for huge zones (the cell then grows beyond the radius). */
export const MAX_CELLS_PER_SIDE = 128;

// Offsets of the cells a pair sweep visits after its own: east, south-west, south, south-east
// (index 0 stands for "the rest of the own cell").
const FORWARD_X = [0, 1, -1, 0, 1];
const FORWARD_Y = [0, 0, 1, 1, 1];

/** Per-slot position and list links, shared by every zone grid of a world. */
export class SlotTable {
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Cell index within its zone grid, or -1 when the slot is in no grid. */
  readonly cell: Int32Array;
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.x = new Float64Array(capacity);
    this.y = new Float64Array(capacity);
    this.next = new Int32Array(capacity).fill(-1);
    this.prev = new Int32Array(capacity).fill(-1);
    this.cell = new Int32Array(capacity).fill(-1);
  }
}

/** One zone's grid. Coordinates are clamped into [0, size]. */
export class InterestGrid {
  readonly size: number;
  readonly cellSize: number;
  readonly side: number;
  private readonly slots: SlotTable;
  private readonly head: Int32Array;
  private count = 0;

  constructor(size: number, radius: number, slots: SlotTable) {
    this.size = size;
    this.slots = slots;
    this.cellSize = Math.max(radius, size / MAX_CELLS_PER_SIDE);
    this.side = Math.max(1, Math.ceil(size / this.cellSize));
    this.head = new Int32Array(this.side * this.side).fill(-1);
  }

  /** Entities in this grid. */
  get population(): number {
    return this.count;
  }

  private cellOf(x: number, y: number): number {
    const side = this.side;
    let cx = Math.floor(x / this.cellSize);
    let cy = Math.floor(y / this.cellSize);
    if (cx < 0) cx = 0;
    else if (cx >= side) cx = side - 1;
    if (cy < 0) cy = 0;
    else if (cy >= side) cy = side - 1;
    return cy * side + cx;
  }

  /** Adds a slot at (x, y); the slot must be in no grid. */
  insert(slot: number, x: number, y: number): void {
    const s = this.slots;
    s.x[slot] = x;
    s.y[slot] = y;
    this.link(slot, this.cellOf(x, y));
    this.count++;
  }

  /** Removes a slot from this grid. */
  remove(slot: number): void {
    if (this.slots.cell[slot] === -1) return;
    this.unlink(slot);
    this.count--;
  }

  /** Moves a slot already in this grid; relinks only when it changes cell. */
  move(slot: number, x: number, y: number): void {
    const s = this.slots;
    s.x[slot] = x;
    s.y[slot] = y;
    const c = this.cellOf(x, y);
    if (c !== s.cell[slot]) {
      this.unlink(slot);
      this.link(slot, c);
    }
  }

  /**
   * Writes the slots within `radius` of (x, y) into `out` (at most out.length of them, nearest
   * first is not guaranteed) and returns how many were written.
   */
  query(x: number, y: number, radius: number, out: Int32Array): number {
    const s = this.slots;
    const cs = this.cellSize;
    const side = this.side;
    const r2 = radius * radius;
    const x0 = Math.max(0, Math.floor((x - radius) / cs));
    const x1 = Math.min(side - 1, Math.floor((x + radius) / cs));
    const y0 = Math.max(0, Math.floor((y - radius) / cs));
    const y1 = Math.min(side - 1, Math.floor((y + radius) / cs));
    const max = out.length;
    let n = 0;
    for (let cy = y0; cy <= y1; cy++) {
      for (let cx = x0; cx <= x1; cx++) {
        for (let slot = this.head[cy * side + cx]!; slot !== -1; slot = s.next[slot]!) {
          const dx = s.x[slot]! - x;
          const dy = s.y[slot]! - y;
          if (dx * dx + dy * dy <= r2) {
            out[n++] = slot;
            if (n === max) return n;
          }
        }
      }
    }
    return n;
  }

  /**
   * For every entity in this grid, lists the entities within `radius` of it — itself first — into
   * `lists[slot * max …]` (at most `max`) and sets `counts[slot]`. Visibility is symmetric, so
   * each pair is tested once: against the rest of its own cell and four of the neighbour cells.
   * Requires cellSize ≥ radius (always true for the radius the grid was built with).
   */
  collectVisible(radius: number, max: number, lists: Int32Array, counts: Int32Array): void {
    const s = this.slots;
    const head = this.head;
    const side = this.side;
    const next = s.next;
    const xs = s.x;
    const ys = s.y;
    const r2 = radius * radius;
    for (let c = 0; c < head.length; c++) {
      for (let a = head[c]!; a !== -1; a = next[a]!) {
        lists[a * max] = a;
        counts[a] = 1;
      }
    }
    for (let cy = 0; cy < side; cy++) {
      for (let cx = 0; cx < side; cx++) {
        for (let a = head[cy * side + cx]!; a !== -1; a = next[a]!) {
          const ax = xs[a]!;
          const ay = ys[a]!;
          // The rest of this cell, then the forward half of the neighbourhood.
          for (let k = 0; k < 5; k++) {
            let b: number;
            if (k === 0) b = next[a]!;
            else {
              const nx = cx + FORWARD_X[k]!;
              const ny = cy + FORWARD_Y[k]!;
              if (nx < 0 || nx >= side || ny >= side) continue;
              b = head[ny * side + nx]!;
            }
            for (; b !== -1; b = next[b]!) {
              const dx = xs[b]! - ax;
              const dy = ys[b]! - ay;
              if (dx * dx + dy * dy > r2) continue;
              const na = counts[a]!;
              if (na < max) {
                lists[a * max + na] = b;
                counts[a] = na + 1;
              }
              const nb = counts[b]!;
              if (nb < max) {
                lists[b * max + nb] = a;
                counts[b] = nb + 1;
              }
            }
          }
        }
      }
    }
  }

  private link(slot: number, c: number): void {
    const s = this.slots;
    const h = this.head[c]!;
    s.prev[slot] = -1;
    s.next[slot] = h;
    if (h !== -1) s.prev[h] = slot;
    this.head[c] = slot;
    s.cell[slot] = c;
  }

  private unlink(slot: number): void {
    const s = this.slots;
    const p = s.prev[slot]!;
    const n = s.next[slot]!;
    if (p !== -1) s.next[p] = n;
    else this.head[s.cell[slot]!] = n;
    if (n !== -1) s.prev[n] = p;
    s.next[slot] = -1;
    s.prev[slot] = -1;
    s.cell[slot] = -1;
  }
}

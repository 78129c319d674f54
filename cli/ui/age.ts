/** Durations and ages for people, as kubectl writes them (`42s`, `5m`, `3h`, `2d`). */

/** `ms` as the largest whole unit that fits: seconds under a minute, minutes under an hour, hours under two days, then days. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** How long before `now` the ISO time `then` was; '?' when either is missing or unparseable. */
export function age(then: string | null | undefined, now: string): string {
  const a = Date.parse(then ?? '');
  const b = Date.parse(now);
  return Number.isNaN(a) || Number.isNaN(b) ? '?' : formatDuration(b - a);
}

/** An ISO time as `2026-12-04 13:39 UTC`, minutes only: what a person compares with a clock. */
export function formatTime(iso: string | null | undefined): string {
  const t = Date.parse(iso ?? '');
  return Number.isNaN(t) ? '?' : `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

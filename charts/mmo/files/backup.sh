#!/bin/sh
# Dumps the database DATABASE_URL names into BACKUP_DIR as <BACKUP_PREFIX>-<UTC time>.dump (pg_dump's
# custom format: compressed, restorable table by table), then keeps the newest BACKUP_RETENTION dumps
# of that prefix. A dump is written under a temporary name and renamed once complete, so a failed or
# stopped run never leaves a file that looks like a backup. BACKUP_NAME names the dump instead of the
# time (`mmoctl backup now` chooses it, so it can say which file it made).
# Run by the chart's backup CronJob; the same file runs against a local PostgreSQL in the test suite.
set -eu
: "${DATABASE_URL:?DATABASE_URL is not set}"
dir="${BACKUP_DIR:-/backups}"
prefix="${BACKUP_PREFIX:-mmo}"
keep="${BACKUP_RETENTION:-7}"
name="${BACKUP_NAME:-$prefix-$(date -u +%Y%m%dT%H%M%SZ)}"
case "$name" in
  */* | .* | '') echo "backup: BACKUP_NAME ($name) must be a plain file name" >&2; exit 2 ;;
esac
case "$keep" in
  '' | *[!0-9]* | 0) echo "backup: BACKUP_RETENTION ($keep) must be a whole number above 0" >&2; exit 2 ;;
esac
out="$dir/$name.dump"
if [ -e "$out" ]; then echo "backup: $out exists already; nothing was overwritten" >&2; exit 1; fi
rm -f -- "$out.partial"
pg_dump --format=custom --no-owner --no-privileges --dbname="$DATABASE_URL" --file="$out.partial"
mv -- "$out.partial" "$out"
echo "backup: wrote $out ($(wc -c < "$out") bytes)"
# Retention: newest first by modification time; everything after the first $keep goes.
ls -1t -- "$dir/$prefix"-*.dump 2>/dev/null | tail -n +"$((keep + 1))" | while IFS= read -r old; do
  rm -f -- "$old"
  echo "backup: removed $old (keeping the newest $keep)"
done

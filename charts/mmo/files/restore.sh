#!/bin/sh
# Loads one dump of BACKUP_DIR back into the database DATABASE_URL names: RESTORE_FROM is a file name
# on the volume (with or without .dump) or "latest" (the newest <BACKUP_PREFIX>-*.dump). The archive is
# read through once before anything is touched; then every object it holds is dropped and recreated in
# one transaction (pg_restore --clean --single-transaction), so a failed restore leaves the database as
# it was. Rows written after the dump are gone once it succeeds.
# Run by the Job `mmoctl restore --from` starts; the same file runs against a local PostgreSQL in the
# test suite.
set -eu
: "${DATABASE_URL:?DATABASE_URL is not set}"
: "${RESTORE_FROM:?RESTORE_FROM is not set: a dump file name on the backup volume, or latest}"
dir="${BACKUP_DIR:-/backups}"
prefix="${BACKUP_PREFIX:-mmo}"
case "$RESTORE_FROM" in
  latest) dump="$(ls -1t -- "$dir/$prefix"-*.dump 2>/dev/null | head -n 1)" ;;
  */* | .* | '') echo "restore: RESTORE_FROM ($RESTORE_FROM) must be a file name on the backup volume, or latest" >&2; exit 2 ;;
  *.dump) dump="$dir/$RESTORE_FROM" ;;
  *) dump="$dir/$RESTORE_FROM.dump" ;;
esac
if [ -z "$dump" ] || [ ! -f "$dump" ]; then
  echo "restore: no dump ${dump:-of $prefix} in $dir. The dumps there, newest first:" >&2
  ls -1t -- "$dir" 2>/dev/null | grep '\.dump$' >&2 || echo "  (none)" >&2
  exit 1
fi
pg_restore --list -- "$dump" > /dev/null
pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error --dbname="$DATABASE_URL" -- "$dump"
echo "restore: restored $dump"

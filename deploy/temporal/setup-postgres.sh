#!/bin/sh
# Creates or upgrades Temporal's persistence and visibility databases in PostgreSQL.
# Runs in the temporalio/admin-tools image; safe to re-run (each step is idempotent).
set -eu
: "${POSTGRES_SEEDS:=postgres}"
: "${POSTGRES_PORT:=5432}"
: "${POSTGRES_USER:=postgres}"
# temporal-sql-tool reads the password from SQL_PASSWORD.

until nc -z "$POSTGRES_SEEDS" "$POSTGRES_PORT"; do
  echo "waiting for PostgreSQL at $POSTGRES_SEEDS:$POSTGRES_PORT"
  sleep 1
done

schema=/etc/temporal/schema/postgresql/v12
for db in temporal:temporal temporal_visibility:visibility; do
  name=${db%%:*}
  dir=${db##*:}
  sql="temporal-sql-tool --plugin postgres12 --ep $POSTGRES_SEEDS -p $POSTGRES_PORT -u $POSTGRES_USER --db $name"
  $sql create
  $sql setup-schema -v 0.0
  $sql update-schema -d "$schema/$dir/versioned"
done
echo "Temporal schema is up to date"

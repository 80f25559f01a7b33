#!/bin/sh
# Run once by the postgres image when it creates the primary: lets the replica connect for
# streaming replication (password-checked, like every other connection).
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"

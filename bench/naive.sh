#!/usr/bin/env bash
# bench/naive.sh: the way users load the RDS task list into PostgreSQL today,
# without rds_task_fdw: a shell loop of curl calls over the pages, one new
# curl process (so one new TCP connection and TLS handshake) per page, the
# JSON turned into CSV by one python3 filter (jq is not always installed),
# piped into psql's \copy.  bench/run.sh times it against the FDW.
#
# Usage: bash bench/naive.sh ENDPOINT PROJECT_ID TOKEN CA_FILE TABLE
#   ENDPOINT  https://host:port (the API's base URL)
#   TABLE     an existing table with the columns of rds_tasks, in order
# psql connects with the PG* environment (pg_virtualenv sets it).
# Prints the number of rows copied ("COPY n").
set -euo pipefail

if [ $# -ne 5 ]; then
	echo "usage: $0 ENDPOINT PROJECT_ID TOKEN CA_FILE TABLE" >&2
	exit 2
fi
endpoint=$1 project=$2 token=$3 ca=$4 table=$5
url="$endpoint/v3/$project/tasklist"
limit=50

get_page() {
	curl -sS -f --cacert "$ca" -H "X-Auth-Token: $token" \
		"$url?offset=$1&limit=$limit"
	echo
}

# one task per CSV line, fields in the table's order; "" or absent -> NULL
to_csv='
import csv, json, sys
fields = ("id", "name", "instance_id", "instance_name", "instance_status",
          "order_id", "process", "fail_reason", "create_time", "end_time", "status")
out = csv.writer(sys.stdout, lineterminator="\n")
for line in sys.stdin:
    if line.strip():
        for t in json.loads(line)["tasks"]:
            out.writerow([t.get(f) or None for f in fields])
'

first=$(get_page 0)
total=$(printf '%s' "$first" | grep -o '"total_count":[0-9]*' | cut -d: -f2)
{
	printf '%s\n' "$first"
	for ((offset = limit; offset < total; offset += limit)); do
		get_page "$offset"
	done
} | python3 -c "$to_csv" |
	psql -X -q -At -v ON_ERROR_STOP=1 -c "\\copy $table FROM pstdin WITH (FORMAT csv)" \
		-c "SELECT 'COPY ' || count(*) FROM $table"

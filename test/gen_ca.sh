#!/bin/sh
# gen_ca.sh: throwaway TLS material for the API simulator (test/rds_sim.py).
#
# Usage: sh test/gen_ca.sh DIR
#
# Writes into DIR (created if missing):
#   ca.crt, ca.key          a test CA ("rds_task_fdw test CA")
#   server.crt, server.key  a server certificate signed by that CA, valid for
#                           IP:127.0.0.1, IP:::1 and DNS:localhost (CN=localhost)
#   other-ca.crt, other-ca.key
#                           a second, unrelated CA: trusting only it must make
#                           the client reject the server ("wrong CA" tests)
#
# Keys are EC P-256 (fast to make, accepted by OpenSSL, libcurl and Python's ssl).
# Certificates are valid from now for ten years.  Nothing here is secret:
# never use it outside tests.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
mkdir -p "$dir"
cd "$dir"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# make_ca NAME CN: a self-signed CA certificate NAME.crt with key NAME.key
make_ca()
{
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$1.key" -out "$1.crt" -days 3650 -subj "/CN=$2" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" 2>/dev/null
}

make_ca ca "rds_task_fdw test CA"
make_ca other-ca "rds_task_fdw unrelated CA"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout server.key -out "$tmp/server.csr" -subj "/CN=localhost" 2>/dev/null

cat > "$tmp/server.ext" <<'EOF'
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,IP:::1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
EOF

openssl x509 -req -in "$tmp/server.csr" -CA ca.crt -CAkey ca.key \
	-set_serial "0x$(openssl rand -hex 8)" -days 3650 \
	-extfile "$tmp/server.ext" -out server.crt 2>/dev/null

# World-readable on purpose: the simulator may run as another user (postgres)
# than the one who made the files, and none of this is secret.
chmod 644 ca.key other-ca.key server.key
openssl verify -CAfile ca.crt server.crt >/dev/null
echo "wrote $(pwd)/ca.crt server.crt server.key other-ca.crt"

#!/usr/bin/env bash
# Instructions per request of the in-memory server (bench/inmem.py), counted by callgrind:
# steady whatever else the machine does, so it can judge a change of a few percent.
# (Ir(2500 requests) - Ir(500 requests)) / 2000 removes start-up and import costs.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
py=$(python3 -c 'import sys; print(sys.executable)')
extra=${1:-}
ir() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$py" bench/inmem.py --count "$1" $extra 2>&1 |
        awk '/Collected/ {print $4}'
}
a=$(ir 500)
b=$(ir 2500)
echo "instructions per request: $(( (b - a) / 2000 ))"

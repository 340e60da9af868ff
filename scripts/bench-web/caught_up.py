"""Reads `freightdesk projections status` on stdin; exits 0 when every version that is not
retired has applied every event (lag 0), 1 otherwise."""

import sys

lines = [line.split() for line in sys.stdin if line.strip()]
header = next((i for i, cols in enumerate(lines) if cols[:2] == ["version", "state"]), None)
if header is None:
    sys.exit(1)
lag = lines[header].index("lag")
rows = [cols for cols in lines[header + 1:] if cols[1] != "retired"]
sys.exit(0 if rows and all(cols[lag] == "0" for cols in rows) else 1)

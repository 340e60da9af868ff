"""Turns the raw measurements of scripts/bench-web.sh (one JSON object a line) into its part of
`make bench`: {"part": "web", "figures": [...]}, each figure the median of its runs with the
spread. usage: figures.py RAW_JSONL OUT_JSON"""

import json
import statistics
import sys
from collections import defaultdict

BACKENDS = ("postgres", "sqlite")
ENCODINGS = "gzip, br"
STATIC_FILE = "static file /pkg/freightdesk.css"
STATIC = f"{STATIC_FILE} (Accept-Encoding: {ENCODINGS})"
# Issue 19: the board page answers at least a tenth of the static file's rate.
BOARD_TARGET = 0.1


def figure(item, name, backend, unit, runs, target, met=None, baseline_name=None, baseline=None):
    runs = [round(r, 3) for r in runs]
    value = round(statistics.median(runs), 3)
    ratio = round(value / baseline, 3) if baseline else None
    return {
        "item": item,
        "name": name,
        "backend": backend,
        "value": value,
        "unit": unit,
        "baseline_name": baseline_name,
        "baseline": baseline,
        "ratio": ratio,
        "target": target,
        "met": met,
        "runs": runs,
        "spread": f"{min(runs):g}–{max(runs):g}",
    }


def mib(kib):
    return [k / 1024 for k in kib]


def main(raw_path, out_path):
    wrk = defaultdict(list)  # (backend, measure) -> [wrk result]
    rss = defaultdict(list)  # (backend, measure) -> [KiB]
    hydration = {}
    bundle = defaultdict(list)  # encoding -> [bytes]
    page_bytes = defaultdict(dict)  # backend -> encoding -> bytes
    clients = None
    with open(raw_path) as raw:
        for line in raw:
            record = json.loads(line)
            kind = record["kind"]
            if kind == "wrk":
                wrk[(record["backend"], record["measure"])].append(record["result"])
                clients = record.get("clients", clients)
            elif kind == "rss":
                rss[(record["backend"], record["measure"])].append(record["kib"])
            elif kind == "hydration":
                hydration[record["backend"]] = record["ms"]
            elif kind == "page_bytes":
                page_bytes[record["backend"]][record["encoding"]] = record["bytes"]
            elif kind == "bundle":
                bundle[record["encoding"]].append(record["bytes"])

    figures = []
    for backend in BACKENDS:
        if (backend, "static") not in wrk:
            continue
        static = wrk[(backend, "static")]
        static_rps = statistics.median(r["rps"] for r in static)
        static_p50 = statistics.median(r["p50_ms"] for r in static)
        static_p99 = statistics.median(r["p99_ms"] for r in static)
        load = f"{clients} clients"
        figures.append(figure(5, f"{STATIC}, {load}: requests/s", backend, "requests/s",
                              [r["rps"] for r in static], "the baseline"))
        for measure, label, target in (
                ("board", f"board page (50 rows, server-rendered, Accept-Encoding: {ENCODINGS})",
                 BOARD_TARGET),
                ("pick-up", "pick-up server function (a real command)", None)):
            runs = wrk[(backend, measure)]
            rps = [r["rps"] for r in runs]
            met = None
            if target is not None:
                met = statistics.median(rps) / static_rps >= target
            figures.append(figure(5, f"{label}, {load}: requests/s", backend, "requests/s",
                                  rps, f"≥ {target}× the static file" if target is not None
                                  else "measured against the static file", met=met,
                                  baseline_name=f"{STATIC}, {load}", baseline=round(static_rps, 1)))
            figures.append(figure(5, f"{label}, {load}: p50 latency", backend, "ms",
                                  [r["p50_ms"] for r in runs], "measured against the static file",
                                  baseline_name=f"{STATIC}, {load}: p50",
                                  baseline=round(static_p50, 3)))
            figures.append(figure(5, f"{label}, {load}: p99 latency", backend, "ms",
                                  [r["p99_ms"] for r in runs], "measured against the static file",
                                  baseline_name=f"{STATIC}, {load}: p99",
                                  baseline=round(static_p99, 3)))
        failed = [sum(r["status_errors"] + r["socket_errors"] for r in runs)
                  for runs in zip(*(wrk[(backend, m)] for m in ("static", "board", "pick-up")))]
        sizes = page_bytes.get(backend, {})
        if "identity" in sizes:
            for encoding in ("gzip", "br"):
                if encoding in sizes:
                    figures.append(figure(
                        5, f"board page (50 rows) as sent with Content-Encoding: {encoding}",
                        backend, "bytes", [sizes[encoding]] * 3, "measured against the page as is",
                        baseline_name="board page, no encoding", baseline=sizes["identity"]))
        figures.append(figure(5, "failed responses per run (static file + board page + pick-up)",
                              backend, "responses", failed, "0 in every run",
                              met=max(failed) == 0))
        single = [r["p50_ms"] for r in wrk[(backend, "static-1conn")]]
        figures.append(figure(5, f"{STATIC_FILE} on one kept-alive connection: p50 latency", backend,
                              "ms", single, "about 1 ms, no 40 ms delayed-ACK wait (< 2 ms)",
                              met=statistics.median(single) < 2))
        if backend in hydration:
            ms = hydration[backend]
            figures.append(figure(6, "board page hydrated in Chromium (fresh context, loopback)",
                                  backend, "ms", ms, "< 1000 ms", met=statistics.median(ms) < 1000))
        figures.append(figure(7, "resident memory of serve at rest (VmRSS)", backend, "MiB",
                              mib(rss[(backend, "rest")]), "measured"))
        figures.append(figure(7, f"resident memory of serve under the board load, {load} "
                                 "(highest VmRSS seen)", backend, "MiB",
                              mib(rss[(backend, "load")]), "measured",
                              baseline_name="at rest",
                              baseline=round(statistics.median(mib(rss[(backend, "rest")])), 3)))
        figures.append(figure(7, "peak resident memory of serve after all loads (VmHWM)",
                              backend, "MiB", mib(rss[(backend, "hwm")]), "measured"))

    identity = statistics.median(bundle["identity"]) / 1000
    for encoding, target, met in (("gzip", "≤ 400 KB", lambda kb: kb <= 400),
                                  ("br", "≤ 400 KB (gzip is the target's measure)", None)):
        if encoding not in bundle:
            continue
        kb = [b / 1000 for b in bundle[encoding]]
        figures.append(figure(6, f"freightdesk.wasm as sent with Content-Encoding: {encoding}",
                              "web", "KB", kb, target,
                              met=met(statistics.median(kb)) if met else None,
                              baseline_name="freightdesk.wasm uncompressed",
                              baseline=round(identity, 3)))

    with open(out_path, "w") as out:
        json.dump({"part": "web", "figures": figures}, out, indent=1, ensure_ascii=False)
        out.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:])

#!/usr/bin/env python3
"""Merges the bench parts (target/bench/parts/*.json) and the machine into
target/bench/results.json and prints one table: figure, baseline, ratio, target, met.

  scripts/bench-report.py          merge and print
  scripts/bench-report.py --check  also fail unless every part is complete and well-formed
                                   (shapes only: no timing is judged)
  scripts/bench-report.py --markdown  print the table as Markdown (for the README)
"""
import glob
import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone

PARTS = "target/bench/parts"
RESULTS = "target/bench/results.json"
FIELDS = {
    "item": int,
    "name": str,
    "backend": str,
    "value": (int, float),
    "unit": str,
    "target": str,
    "runs": list,
    "spread": str,
}
# A figure without a baseline (memory at rest, a count) has neither a baseline nor its name.
NULLABLE = {"baseline_name": str, "baseline": (int, float), "ratio": (int, float), "met": bool}
BACKENDS = {"postgres", "sqlite", "web"}
# What the store part must cover, per database backend.
STORE_ITEMS = {1, 2, 3, 4, 5, 8}


def machine():
    mem_kb = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kb = int(line.split()[1])
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        commit += "+changes" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "cores": os.cpu_count(),
        "memory_mb": mem_kb // 1024,
        "kernel": platform.release(),
        "git_commit": commit,
    }


def problems_of(part, path):
    problems = []
    figures = part.get("figures")
    if not isinstance(part.get("part"), str) or not isinstance(figures, list) or not figures:
        return [f"{path}: needs a \"part\" name and a non-empty \"figures\" list"]
    for i, fig in enumerate(figures):
        where = f"{path} figure {i} ({fig.get('name', '?')})"
        for key, kind in FIELDS.items():
            if not isinstance(fig.get(key), kind) or isinstance(fig.get(key), bool) and kind is not bool:
                problems.append(f"{where}: \"{key}\" missing or not {kind}")
        for key, kind in NULLABLE.items():
            if key not in fig:
                problems.append(f"{where}: \"{key}\" missing (null is allowed)")
            elif fig[key] is not None and (not isinstance(fig[key], kind)
                                           or (kind is not bool and isinstance(fig[key], bool))):
                problems.append(f"{where}: \"{key}\" is not {kind} or null")
        if fig.get("backend") not in BACKENDS:
            problems.append(f"{where}: backend must be one of {sorted(BACKENDS)}")
        runs = fig.get("runs") or []
        if len(runs) < 3 or not all(isinstance(r, (int, float)) for r in runs):
            problems.append(f"{where}: needs at least 3 numeric runs")
        if fig.get("baseline") is not None and fig.get("ratio") is None and fig.get("baseline") != 0:
            problems.append(f"{where}: a baseline without a ratio")
    if part["part"] == "store":
        for backend in ("postgres", "sqlite"):
            have = {f.get("item") for f in figures if f.get("backend") == backend}
            missing = STORE_ITEMS - have
            if missing:
                problems.append(f"{path}: {backend} lacks items {sorted(missing)}")
    return problems


def fmt(x):
    if x is None:
        return "–"
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return f"{x:,}" if isinstance(x, int) else f"{x:g}"


def main():
    check = "--check" in sys.argv[1:]
    paths = sorted(glob.glob(os.path.join(PARTS, "*.json")))
    if not paths:
        print(f"no bench parts in {PARTS}: run `make bench` first", file=sys.stderr)
        return 1
    parts, problems, info = [], [], machine()
    for path in paths:
        try:
            with open(path) as f:
                part = json.load(f)
        except (OSError, ValueError) as e:
            problems.append(f"{path}: not readable JSON ({e})")
            continue
        problems += problems_of(part, path)
        for key, value in (part.get("machine") or {}).items():
            info[key] = value
        parts.append(part)
    figures = [dict(f, part=p["part"]) for p in parts for f in p.get("figures", [])]
    results = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "quick": os.environ.get("QUICK", "") not in ("", "0"),
        "machine": info,
        "parts": [p.get("part") for p in parts],
        "figures": figures,
    }
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        json.dump(results, f, indent=2, ensure_ascii=False)

    print(f"\nmachine: {', '.join(f'{k} {v}' for k, v in info.items())}")
    rows = [("item", "backend", "figure", "value", "baseline", "ratio", "target", "met", "spread")]
    for fig in sorted(figures, key=lambda f: (f.get("item", 0), f.get("backend", ""))):
        met = {True: "yes", False: "NO", None: ""}.get(fig.get("met"), "?")
        rows.append((str(fig.get("item")), fig.get("backend", ""), fig.get("name", ""),
                     f"{fmt(fig.get('value'))} {fig.get('unit', '')}".strip(),
                     fmt(fig.get("baseline")), fmt(fig.get("ratio")), fig.get("target", ""), met,
                     fig.get("spread", "")))
    if "--markdown" in sys.argv[1:]:
        for n, r in enumerate(rows):
            cells = [f"**{c}**" if i == 7 and c == "NO" else c for i, c in enumerate(r)]
            print("| " + " | ".join(cells) + " |")
            if n == 0:
                print("|" + " --- |" * len(r))
        return 0
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(f"\nwrote {RESULTS}")
    if check:
        if problems:
            print("bench results are incomplete or malformed:", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
            return 1
        print(f"bench results complete: {len(figures)} figures from {len(parts)} part(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

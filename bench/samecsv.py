"""Compares the CSV files two out/ folders hold, row by row and in order.

Usage: python3 bench/samecsv.py OUT_A OUT_B [LABEL_B]

Columns that name the run (published_at, run_id, started_at, ended_at) are
left out by header name, and runs.csv is skipped: they differ by nature.
Fractions are compared to 12 significant digits: DuckDB sums doubles in
parallel, in no fixed order, so their last digits vary from run to run.
The same rows in another order differ too (the marts are ordered). Exits 1
when a file differs.
"""
import csv
import os
import sys

VOLATILE = {"published_at", "run_id", "started_at", "ended_at"}


def norm(cell):
    if "." in cell or "e" in cell:
        try:
            return "%.12g" % float(cell)
        except ValueError:
            pass
    return cell


def rows(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        head = next(r)
        keep = [i for i, h in enumerate(head) if h not in VOLATILE]
        return [head[i] for i in keep], [tuple(norm(row[i]) for i in keep) for row in r]


def main(a_dir, b_dir, label):
    status = 0
    for name in sorted(os.listdir(a_dir)):
        if not name.endswith(".csv") or name == "runs.csv":
            continue
        if not os.path.exists(os.path.join(b_dir, name)):
            print(f"{name}: missing at {label}")
            status = 1
            continue
        (ha, a), (hb, b) = rows(os.path.join(a_dir, name)), rows(os.path.join(b_dir, name))
        if ha == hb and a == b:
            print(f"{name}: same ({len(a)} rows)")
            continue
        status = 1
        if ha == hb and sorted(a) == sorted(b):
            first = next(i for i, (x, y) in enumerate(zip(a, b)) if x != y)
            print(f"{name}: same rows in another order (from row {first + 1})")
            continue
        diff = sorted(set(a) ^ set(b))
        print(f"{name}: DIFFERS ({len(a)} rows against {len(b)}; {len(diff)} rows in one only), e.g. {diff[:2]}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else sys.argv[2]))

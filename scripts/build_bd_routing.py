#!/usr/bin/env python3
"""Rebuild verify/data/bd-routing.tsv.gz from ../shared/data/bd-routing/bd-routing.csv.

python3 scripts/build_bd_routing.py [CSV] [OUT] [VERSION]
"""
import csv
import gzip
import io
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/bd-routing/bd-routing.csv"
dst = sys.argv[2] if len(sys.argv) > 2 else "verify/data/bd-routing.tsv.gz"
version = sys.argv[3] if len(sys.argv) > 3 else "bd-routing-2026-11-banco"
with open(src, newline="") as f:
    rows = list(csv.reader(f))[1:]
rows.sort()
out = io.StringIO()
out.write("# Bangladeshi bank routing numbers: routing<TAB>bank<TAB>branch, sorted by routing number.\n")
out.write("# Source: branch seed data of fintechbd/banco (MIT licence), via ../shared/data/bd-routing (snapshot).\n")
out.write(f"# version: {version}\n")
for r, b, br in rows:
    assert len(r) == 9 and r.isdigit(), r
    out.write(f"{r}\t{' '.join(b.split())}\t{' '.join(br.split())}\n")
with gzip.GzipFile(dst, "wb", compresslevel=9, mtime=0) as f:
    f.write(out.getvalue().encode())
print(f"{len(rows)} routing numbers -> {dst}")

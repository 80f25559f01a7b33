#!/usr/bin/env python3
"""What each page downloads of the WASM bundle, brotli as served, against its budget.

`cargo leptos build --split` cuts the bundle into the main module (router, layout, reactive
runtime), one module per lazy route and the chunks of code some routes share; its manifest names
the chunks each needs. Routes are grouped (`chunks` in app/src/lib.rs): a page costs the main
module and its JavaScript, the split loader and its group's module and chunks. Fails when a page is over its budget or loads more files than allowed.

    scripts/wasm-budget.py [target/site/pkg]
"""

import glob
import json
import os
import sys

KIB = 1024
# Budgets in KiB of brotli, per group of routes (`chunks` in app/src/lib.rs): what a visitor
# of a link loads, the other public pages, the owner's pages, the admin's. Measured, with a
# little room, so that growth is a decision.
BUDGETS = {"visitor": 410, "public": 330, "owner": 610, "administration": 400}
# Each file is a request; past this a page on HTTP/1.1 waits on round trips, not bytes.
MAX_FILES = 20


def size(path: str) -> tuple[int, int]:
    """Raw and brotli sizes (the `.br` that cargo leptos `--precompress` writes)."""
    raw = os.path.getsize(path)
    br = f"{path}.br"
    return raw, os.path.getsize(br) if os.path.exists(br) else raw


def one(pkg: str, pattern: str) -> str:
    found = [p for p in glob.glob(os.path.join(pkg, pattern)) if not p.endswith((".br", ".gz"))]
    if len(found) != 1:
        sys.exit(f"error: expected one {pattern} in {pkg}, found {len(found)}: run `make build`")
    return found[0]


def main() -> None:
    pkg = sys.argv[1] if len(sys.argv) > 1 else "target/site/pkg"
    base = [one(pkg, "pannier.*.wasm"), one(pkg, "pannier.*.js"), one(pkg, "__wasm_split.*.js")]
    manifest = json.load(open(one(pkg, "__wasm_split_manifest.*.json")))
    base_raw = sum(size(p)[0] for p in base)
    base_br = sum(size(p)[1] for p in base)
    print(f"main module, its JavaScript and the split loader: {base_raw / KIB:.0f} KiB raw, "
          f"{base_br / KIB:.0f} KiB brotli")
    print(f"{'group':18} {'files':>5} {'raw KiB':>8} {'brotli KiB':>10} {'budget':>7}")
    failures = []
    for key, modules in sorted(manifest.items()):
        route = key.rsplit("_", 1)[0]  # `#[lazy]` function name, `_` and a hash
        sizes = [size(os.path.join(pkg, f"{module}.wasm")) for module in modules]
        raw = base_raw + sum(r for r, _ in sizes)
        br = base_br + sum(b for _, b in sizes)
        files = len(base) + len(modules)
        budget = BUDGETS.get(route, 0)
        over = br > budget * KIB or files > MAX_FILES
        print(f"{route:18} {files:5} {raw / KIB:8.0f} {br / KIB:10.0f} {budget:7}"
              + ("  ✗" if over else ""))
        if over:
            failures.append(route)
    if failures:
        sys.exit(f"error: over budget ({MAX_FILES} files, KiB above): {', '.join(failures)}")


if __name__ == "__main__":
    main()

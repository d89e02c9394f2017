"""Reference side of scripts/bench/gemm.mjs: the same square float32 products through Python's torch.

Reads {"sizes": [...], "iterations": {...}, "warmup": n, "threads": n} as JSON on stdin and prints
{"torch": version, "results": [{"n": n, "seconds": [...]}]} on stdout.
"""
import json
import sys
import time

import torch


def main():
    request = json.load(sys.stdin)
    torch.set_num_threads(request["threads"])
    results = []
    for n in request["sizes"]:
        a = torch.randn(n, n)
        b = torch.randn(n, n)
        for _ in range(request["warmup"]):
            torch.mm(a, b)
        seconds = []
        for _ in range(request["iterations"][str(n)]):
            start = time.perf_counter()
            torch.mm(a, b)
            seconds.append(time.perf_counter() - start)
        results.append({"n": n, "seconds": seconds})
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}))


if __name__ == "__main__":
    main()

"""Peers for `cargo xtask bench docparse`: times markitdown (in one process,
import excluded) and pdftotext (one process per file, as it is used) on the
same PDFs, and reports peak RSS. Prints one JSON object.

Usage: docparse_peers.py FILE...
"""

import json
import resource
import subprocess
import sys
import time


def pdftotext(files):
    seconds = []
    for f in files:
        t = time.perf_counter()
        subprocess.run(["pdftotext", "-enc", "UTF-8", f, "-"], check=False, capture_output=True)
        seconds.append(time.perf_counter() - t)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "peak_rss_kb": peak_kb}


def markitdown(files):
    from markitdown import MarkItDown

    md = MarkItDown()
    seconds, errors = [], 0
    for f in files:
        t = time.perf_counter()
        try:
            md.convert(f)
        except Exception:  # noqa: BLE001 - a failure is a data point
            errors += 1
        seconds.append(time.perf_counter() - t)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "peak_rss_kb": peak_kb, "errors": errors}


if __name__ == "__main__":
    which, files = sys.argv[1], sys.argv[2:]
    result = pdftotext(files) if which == "pdftotext" else markitdown(files)
    print(json.dumps(result))

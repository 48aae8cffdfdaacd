"""Parse every file in DIR ITERATIONS times with feedparser; print JSON
like the Rust side (cargo xtask bench intel)."""
import json
import os
import sys
import time

import feedparser


def main():
    directory, iterations = sys.argv[1], int(sys.argv[2])
    files = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                files.append(f.read())
    items = 0
    started = time.perf_counter()
    for _ in range(iterations):
        for data in files:
            items += len(feedparser.parse(data).entries)
    seconds = time.perf_counter() - started
    print(json.dumps({
        "files": len(files) * iterations,
        "bytes": sum(map(len, files)) * iterations,
        "items": items,
        "seconds": seconds,
        "version": feedparser.__version__,
    }))


if __name__ == "__main__":
    main()

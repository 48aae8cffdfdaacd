#!/usr/bin/env python3
"""Builds adobe-cid-unicode.bin.zz: CID -> Unicode for the four Adobe CJK
character collections, from Adobe's <Collection>-UCS2 CMaps (poppler-data).

Usage: generate.py CMAP_DIR OUT
CMAP_DIR is poppler-data's cMap directory (Debian: /usr/share/poppler/cMap).

Format (before zlib): for each collection in the order Japan1, GB1, CNS1,
Korea1: a LEB128 count N, then N zigzag-LEB128 deltas of the code point of
CID 0..N-1 from the previous CID's (0 = no mapping). Only the first
character of a multi-character mapping is kept; variation selectors are
dropped.
"""
import re, sys, zlib

COLLECTIONS = ["Japan1", "GB1", "CNS1", "Korea1"]

def utf16(hexstr):
    units = [int(hexstr[i:i + 4], 16) for i in range(0, len(hexstr), 4)]
    s = b"".join(u.to_bytes(2, "big") for u in units).decode("utf-16-be", "replace")
    s = "".join(c for c in s if not (0xFE00 <= ord(c) <= 0xFE0F))
    return ord(s[0]) if s else 0

def table(path):
    text = open(path, encoding="latin-1").read()
    m = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for cid, dst in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            m[int(cid, 16)] = utf16(dst)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            lo, hi, base = int(lo, 16), int(hi, 16), utf16(dst)
            for k in range(hi - lo + 1):
                m[lo + k] = base + k
    n = max(m) + 1
    return [m.get(i, 0) for i in range(n)]

def leb(v, out):
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return

def main():
    src, dst = sys.argv[1], sys.argv[2]
    raw = bytearray()
    for c in COLLECTIONS:
        t = table(f"{src}/Adobe-{c}/Adobe-{c}-UCS2")
        leb(len(t), raw)
        prev = 0
        for cp in t:
            d = cp - prev
            leb((d << 1) ^ (d >> 63) if d < 0 else d << 1, raw)
            prev = cp
        print(c, len(t), "CIDs", sum(1 for x in t if x), "mapped", file=sys.stderr)
    data = zlib.compress(bytes(raw), 9)
    print("raw", len(raw), "compressed", len(data), file=sys.stderr)
    open(dst, "wb").write(data)

main()

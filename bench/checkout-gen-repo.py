#!/usr/bin/env python3
"""Writes a git fast-import stream for a synthetic repository: COMMITS commits on refs/heads/main over a
tree of FILES text files in nested directories, each commit changing a few files (like real history).
usage: checkout-gen-repo.py COMMITS FILES | git fast-import --quiet"""
import random
import sys

commits, files = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(42)
words = ["alpha", "beta", "gamma", "delta", "build", "image", "layer", "commit", "tree", "blob", "push", "tag"]
out = sys.stdout.buffer


def content(path, rev):
    lines = [f"// {path} revision {rev}"]
    for i in range(40):
        lines.append(" ".join(rng.choice(words) for _ in range(8)) + f" {i}")
    return ("\n".join(lines) + "\n").encode()


def path_of(i):
    return f"pkg{i % 23}/sub{i % 7}/file{i}.go"


mark = 0
for c in range(commits):
    changed = range(files) if c == 0 else [rng.randrange(files) for _ in range(3)]
    out.write(b"commit refs/heads/main\n")
    out.write(f"committer Bench <bench@hookyard.invalid> {1600000000 + c * 60} +0000\n".encode())
    msg = f"commit {c}\n".encode()
    out.write(b"data %d\n%s" % (len(msg), msg))
    for i in changed:
        data = content(path_of(i), c)
        out.write(f"M 100644 inline {path_of(i)}\n".encode())
        out.write(b"data %d\n%s\n" % (len(data), data))
    out.write(b"\n")

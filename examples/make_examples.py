#!/usr/bin/env python3
"""examples/make_examples.py OUTDIR - the sample submissions of
examples/README.md, built with the test generator (tests/gen)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "gen"))
import kuragen  # noqa: E402
import zipw  # noqa: E402

# type -> (name variant, how it was "made")
SAMPLES = {
    "new": ("cp932", "Windows Explorer: CP932 names, no UTF-8 flag"),
    "renewal": ("utf8", "7-Zip: UTF-8 names with the UTF-8 flag"),
    "change": ("wrap", "a folder compressed as a whole (one wrapping "
               "folder, UTF-8 names)"),
    "termination": ("utf8", "one Word file"),
}


def main(argv):
    if len(argv) != 2:
        print("usage: make_examples.py OUTDIR", file=sys.stderr)
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    for t, (variant, how) in SAMPLES.items():
        entries, docs = kuragen.submission(kuragen.type_docs(t), variant)
        path = os.path.join(out, "sample-%s.zip" % t)
        with open(path, "wb") as f:
            f.write(zipw.build(entries))
        print("%s: %d documents (%s)" % (path, len(docs), how))
        for d in docs:
            print("    %s  %-16s %s" % (d["number"], d["role"], d["name"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""t01-help-options.py - every long option a command parses is in its --help.

Reads tools/*.c: every string literal that is exactly a long option
("--name" or "--name=") is attributed to the function it appears in (OpenBSD
style definitions start a line with "name("). HELP maps each such function to
the argv whose --help must list the option. A function that parses options
but is missing from HELP (a new command) fails the test, so the table cannot
silently fall behind the code."""
import glob
import os
import re
import subprocess
import sys

from tap import finish, ok

KURA = os.environ["KURA"]
TOP = os.environ.get("KURA_TOP", ".")
sys.stdout.reconfigure(line_buffering=True)

# function in tools/*.c -> the command whose --help documents its options
HELP = {
    "cmd_init": ["init"],
    "cmd_staff": ["staff"],
    "cmd_check": ["check"],
    "cmd_serve": ["serve"],
    "cmd_account": ["account"],
    "cmd_demo": ["demo"],
    "cmd_retention": ["retention"],
    "case_list": ["case", "list"],
    "case_show": ["case", "show"],
    "case_export": ["case", "export"],
    "case_decide": ["case", "decide"],
    "case_hold": ["case", "hold"],
    "case_return": ["case", "return"],
    "cert_verify": ["cert", "verify"],
    "cert_export": ["cert", "export"],
    "do_checkpoint": ["audit", "checkpoint"],
    "do_events": ["audit", "events"],
    "do_prove": ["audit", "prove"],
    "do_verify": ["audit", "verify"],
    "do_verify_proof": ["audit", "verify-proof"],
    "cmd_audit_scrub": ["audit", "scrub"],
    "cmd_audit_bundle": ["audit", "bundle"],
    "main": [],
}
# helpers that only test argv for options their callers pass or generic ones
NOT_COMMANDS = {"cmd_wants_help", "life_pos", "life_opt", "life_flag",
                "opt_value", "cmd_audit"}
# always accepted, documented by the global usage
GENERIC = {"--help"}


def parsed_options():
    """{function: set of long options} from the sources of tools/."""
    found = {}
    files = sorted(glob.glob(os.path.join(TOP, "tools", "*.c")))
    ok(len(files) >= 5, "found the sources of tools/ (%d files)" % len(files))
    for f in files:
        fn = None
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                m = re.match(r"^([a-z_][a-z0-9_]*)\(", line)
                if m:
                    fn = m.group(1)
                for o in re.findall(r'"(--[a-z0-9][a-z0-9-]*)=?"', line):
                    found.setdefault(fn, set()).add(o)
    return found


def help_text(argv):
    p = subprocess.run([KURA] + argv + ["--help"], capture_output=True,
                       timeout=30)
    ok(p.returncode == 0, "kura %s --help exits 0" % " ".join(argv))
    return p.stdout.decode("utf-8", "replace")


def listed(opt, text):
    return re.search(r"(?<![\w-])" + re.escape(opt) + r"(?![\w-])",
                     text) is not None


# The check itself must be able to fail: a known-absent option is not listed.
ok(not listed("--force-public", "usage: kura demo [--listen ADDR:PORT]"),
   "listed() misses an absent option")
ok(not listed("--leaf", "[--leaf-file FILE]"),
   "listed() does not take --leaf-file for --leaf")
ok(listed("--leaf", "[--leaf-file FILE | --leaf BASE64]"),
   "listed() finds --leaf")

opts = parsed_options()
ok("cmd_demo" in opts and "--force-public" in opts["cmd_demo"],
   "the scan sees --force-public parsed by cmd_demo")
ok(len(opts) >= 15, "the scan found option parsers (%d functions)" % len(opts))
for fn in sorted(opts, key=str):
    if fn in NOT_COMMANDS:
        continue
    if fn not in HELP:
        ok(False, "%s parses %s: add it to HELP in %s" %
           (fn, " ".join(sorted(opts[fn])), os.path.basename(__file__)))
        continue
    text = help_text(HELP[fn])
    for o in sorted(opts[fn] - GENERIC):
        ok(listed(o, text), "kura %s --help lists %s (parsed by %s)" %
           (" ".join(HELP[fn]) or "", o, fn))

finish()

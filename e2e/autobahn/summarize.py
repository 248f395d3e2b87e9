#!/usr/bin/env python3
"""Summarize an Autobahn|Testsuite report (index.json) for one agent.

Usage:
  summarize.py REPORT_DIR [--agent NAME] [--wstest-log FILE] [--verbose]

Prints one line per case that is not acceptable, a per-section table, and as
its very last line `N passed, M failed`. Exit status: 0 if M == 0 and at least
one case ran, 1 otherwise, 2 if the report cannot be read.

Classification of a case (the worse of its two columns wins), following the
colours wstest's own HTML report uses:
  behavior       OK -> ok, NON-STRICT -> nonstrict, INFORMATIONAL -> informational,
                 UNIMPLEMENTED -> unimplemented, anything else (FAILED, ...) -> failed
  behaviorClose  OK -> ok, INFORMATIONAL -> informational,
                 WRONG CODE / FAILED BY CLIENT -> nonstrict,
                 UNCLEAN / FAILED / anything else -> failed
ok, nonstrict and informational count as passed; failed and unimplemented as
failed. With --wstest-log, the case list wstest announced ("Cases = [...]") is
compared with the report: a case that never ran counts as failed (MISSING).
"""

import argparse
import ast
import json
import os
import re
import sys
from collections import OrderedDict

RANK = {"ok": 0, "informational": 1, "nonstrict": 2, "unimplemented": 3, "failed": 4}
PASSING = ("ok", "nonstrict", "informational")
COLUMNS = ("ok", "nonstrict", "informational", "failed", "unimplemented")


def case_key(case_id):
    return tuple(int(p) if p.isdigit() else p for p in case_id.split("."))


def classify_behavior(b):
    return {
        "OK": "ok",
        "NON-STRICT": "nonstrict",
        "INFORMATIONAL": "informational",
        "UNIMPLEMENTED": "unimplemented",
    }.get(b, "failed")


def classify_close(b):
    return {
        "OK": "ok",
        "INFORMATIONAL": "informational",
        "WRONG CODE": "nonstrict",
        "FAILED BY CLIENT": "nonstrict",
    }.get(b, "failed")


def classify(entry):
    b = classify_behavior(entry.get("behavior"))
    if b == "unimplemented":
        # wstest leaves the close column meaningless for unimplemented cases.
        return b
    c = classify_close(entry.get("behaviorClose"))
    return b if RANK[b] >= RANK[c] else c


def announced_cases(log_path):
    """Case ids wstest said it would run, or None if the log does not say."""
    try:
        with open(log_path, errors="replace") as f:
            for line in f:
                m = re.match(r"\s*Cases = (\[.*\])\s*$", line)
                if m:
                    return [str(c) for c in ast.literal_eval(m.group(1))]
    except (OSError, ValueError, SyntaxError):
        pass
    return None


def case_detail(report_dir, entry):
    """result / resultClose texts from the per-case JSON report, if present."""
    name = entry.get("reportfile")
    if not name:
        return ""
    try:
        with open(os.path.join(report_dir, name)) as f:
            case = json.load(f)
    except (OSError, ValueError):
        return ""
    parts = []
    for k in ("result", "resultClose"):
        v = case.get(k)
        if v:
            v = " ".join(str(v).split())
            v = v if len(v) <= 160 else v[:157] + "..."
            if v not in parts:
                parts.append(v)
    return " | ".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report_dir")
    ap.add_argument("--agent", help="agent key in index.json (default: the only one)")
    ap.add_argument("--wstest-log", help="wstest output, to detect cases that never ran")
    ap.add_argument("--verbose", action="store_true", help="also list non-strict/informational cases")
    args = ap.parse_args()

    index_path = os.path.join(args.report_dir, "index.json")
    unreadable = False
    try:
        with open(index_path) as f:
            index = json.load(f)
    except (OSError, ValueError) as e:
        # Still go on: with --wstest-log every announced case counts as missing.
        print("summarize: cannot read %s: %s" % (index_path, e), file=sys.stderr)
        index = {}
        unreadable = True

    if args.agent:
        if args.agent not in index and not unreadable:
            print("summarize: agent %r not in %s (agents: %s)"
                  % (args.agent, index_path, ", ".join(sorted(index)) or "none"), file=sys.stderr)
        results = index.get(args.agent, {})
    elif len(index) == 1:
        results = next(iter(index.values()))
    elif not index:
        results = {}
    else:
        print("summarize: several agents in %s, pick one with --agent: %s"
              % (index_path, ", ".join(sorted(index))), file=sys.stderr)
        print("0 passed, 0 failed")
        return 2

    expected = announced_cases(args.wstest_log) if args.wstest_log else None
    case_ids = set(results)
    missing = []
    if expected is not None:
        missing = [c for c in expected if c not in results]
        case_ids |= set(expected)

    sections = OrderedDict()
    passed = failed = 0
    notes = []
    for cid in sorted(case_ids, key=case_key):
        sec = cid.split(".")[0]
        counts = sections.setdefault(sec, dict.fromkeys(COLUMNS + ("missing",), 0))
        if cid not in results:
            counts["failed"] += 1
            counts["missing"] += 1
            failed += 1
            print("FAIL %-10s MISSING: announced by wstest but never ran" % cid)
            continue
        entry = results[cid]
        cls = classify(entry)
        counts[cls] += 1
        line = "%-10s behavior=%s close=%s code=%s" % (
            cid, entry.get("behavior"), entry.get("behaviorClose"), entry.get("remoteCloseCode"))
        if cls in PASSING:
            passed += 1
            if cls != "ok":
                notes.append("note: %-13s %s" % (cls.upper(), line))
        else:
            failed += 1
            detail = case_detail(args.report_dir, entry)
            print("FAIL %s%s" % (line, ("  -- " + detail) if detail else ""))

    if args.verbose:
        for n in notes:
            print(n)

    print("per section:")
    for sec in sorted(sections, key=lambda s: case_key(s)):
        c = sections[sec]
        extra = " (%d of them missing)" % c["missing"] if c["missing"] else ""
        print("  section %2s: %s%s" % (sec, ", ".join("%3d %s" % (c[k], k) for k in COLUMNS), extra))

    if not case_ids:
        print("summarize: no test case results in %s" % index_path, file=sys.stderr)
    if missing:
        print("summarize: %d announced case(s) never ran (peer crashed or hung?)" % len(missing),
              file=sys.stderr)
    sys.stderr.flush()
    print("%d passed, %d failed" % (passed, failed))
    if unreadable:
        return 2
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

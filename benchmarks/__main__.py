"""`python -m benchmarks [programme|scan|timeline] [ARGS]`: the programme benchmark (one table) by default.

`scan` and `timeline` are the older single-purpose tables (they refill the benchmark database their own way)."""

import sys

from benchmarks import programme, scan, timeline

BENCHMARKS = {"programme": programme.main, "scan": scan.main, "timeline": timeline.main}


def main(argv: list[str]) -> int:
    if argv and argv[0] in BENCHMARKS:
        return BENCHMARKS[argv[0]](argv[1:])
    return programme.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

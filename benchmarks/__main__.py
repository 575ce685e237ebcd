"""`python -m benchmarks [programme|scan|timeline|surveillance] [ARGS]`: the programme benchmark (one table) by default.

`scan`, `timeline` and `surveillance` are the older single-purpose tables (they fill the benchmark database their own
way)."""

import sys

from benchmarks import programme, scan, surveillance, timeline

BENCHMARKS = {
    "programme": programme.main,
    "scan": scan.main,
    "timeline": timeline.main,
    "surveillance": surveillance.main,
}


def main(argv: list[str]) -> int:
    if argv and argv[0] in BENCHMARKS:
        return BENCHMARKS[argv[0]](argv[1:])
    return programme.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

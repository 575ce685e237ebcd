"""`python -m benchmarks [scan|timeline|surveillance] [ARGS]`: every benchmark by default, each printing its table."""

import sys

from benchmarks import scan, surveillance, timeline

BENCHMARKS = {"scan": scan.main, "timeline": timeline.main, "surveillance": surveillance.main}


def main(argv: list[str]) -> int:
    if argv and argv[0] in BENCHMARKS:
        return BENCHMARKS[argv[0]](argv[1:])
    return max(run([]) for run in BENCHMARKS.values())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

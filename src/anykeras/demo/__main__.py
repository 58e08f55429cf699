"""``python -m anykeras.demo {train,load} --artifacts DIR [--quick]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m anykeras.demo {train,load} --artifacts DIR [--quick]``."""
    parser = argparse.ArgumentParser(prog="python -m anykeras.demo")
    parser.add_argument("phase", choices=("train", "load"))
    parser.add_argument("--artifacts", type=Path, default=Path("demo-artifacts"))
    parser.add_argument("--quick", action="store_true", help="synthetic IMDB-format data")
    args = parser.parse_args(argv)
    from anykeras.data import DataNotFoundError
    from anykeras.demo.load import load
    from anykeras.demo.train import artifacts_dir, train

    artifacts = artifacts_dir(args.artifacts, args.quick)
    try:
        (train if args.phase == "train" else load)(artifacts, args.quick)
    except DataNotFoundError as error:
        print(
            f"anykeras demo: error: {error}\nOr run `nox -s demo -- --quick` offline.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

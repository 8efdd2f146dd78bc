"""learning.py with another choice of the texts each in-loop update replays (BENCHMARKS.md).

The product replays up to ``replay`` earlier texts with an accepted answer, texts known to have
no entity being at most half of them (``ModelUpdater._replay_sample``). This script runs the
learning benchmark with that choice swapped, to measure what the cap bought:

- ``--replay-variant all``: any earlier text with an accepted answer, in its share (the
  behaviour before the cap);
- ``--replay-variant entities``: only texts known to hold an entity;
- ``--replay-variant capped``: the product's own choice (no patch).

Every other argument goes to learning.py, e.g.
``python benchmarks/replay_variants.py --replay-variant all --corpora wnut17 --seeds 0,1,2
--configs whole/uncertain --in-loop-only --jobs 2 --out exp_replay_all``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import learning  # noqa: E402

from nbannotate import updater  # noqa: E402

ENV = "NBANNOTATE_REPLAY_VARIANT"
VARIANTS = ("all", "entities", "capped")


def _sample_all(self: updater.ModelUpdater, accepted: dict[int, list[Any]]) -> list[list[Any]]:
    chosen = self._random.sample(list(accepted), min(self.replay, len(accepted)))
    return [accepted[ih] for ih in chosen]


def _sample_entities(self: updater.ModelUpdater, accepted: dict[int, list[Any]]) -> list[list[Any]]:
    known = [ih for ih, answers in accepted.items() if updater._knows_entity(answers)]
    return [accepted[ih] for ih in self._random.sample(known, min(self.replay, len(known)))]


def _patch(variant: str) -> None:
    if variant == "all":
        updater.ModelUpdater._replay_sample = _sample_all
    elif variant == "entities":
        updater.ModelUpdater._replay_sample = _sample_entities


_patch(os.environ.get(ENV, "capped"))  # in spawned workers, which import this file


def main() -> int:
    argv = sys.argv[1:]
    variant = "capped"
    if "--replay-variant" in argv:
        i = argv.index("--replay-variant")
        variant = argv[i + 1] if i + 1 < len(argv) else ""
        del argv[i : i + 2]
    if variant not in VARIANTS:
        raise SystemExit(f"--replay-variant must be one of {', '.join(VARIANTS)}, got {variant!r}.")
    os.environ[ENV] = variant  # inherited by the workers learning.py spawns (--jobs)
    _patch(variant)
    return learning.main(argv)


if __name__ == "__main__":
    learning.C.run_main(main)

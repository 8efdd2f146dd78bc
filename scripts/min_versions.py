"""The oldest dependency versions pyproject.toml allows, for the minimum-versions test job.

    python scripts/min_versions.py             # print a pip constraints file: name==lower bound
    python scripts/min_versions.py --check     # exit 1 unless those versions are installed

Every runtime dependency must have a lower bound (``>=``): that is the version tested.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the copy pip vendors
    from pip._vendor import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def lower_bounds(pyproject: Path = PYPROJECT) -> dict[str, str]:
    """{distribution name: its lower bound} for every runtime dependency, and those of the
    ``postgres`` extra (the store on a server)."""
    project = tomllib.loads(pyproject.read_text())["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["postgres"]
    bounds = {}
    for dep in deps:
        m = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;]*)", dep)
        low = re.search(r">=\s*([0-9][^,\s]*)", m.group(2)) if m else None
        if not low:
            sys.exit(
                f"{pyproject}: dependency {dep!r} has no lower bound (>=): give it one, "
                "the oldest version that works."
            )
        bounds[m.group(1)] = low.group(1)
    return bounds


def main() -> int:
    bounds = lower_bounds()
    if sys.argv[1:] == ["--check"]:
        from packaging.version import Version  # a dependency of spaCy: installed by now

        wrong = {
            name: metadata.version(name)
            for name, low in bounds.items()
            if Version(metadata.version(name)) != Version(low)
        }
        for name, installed in wrong.items():
            print(
                f"{name} {installed} is installed, not the minimum {bounds[name]}", file=sys.stderr
            )
        return 1 if wrong else 0
    print("\n".join(f"{name}=={low}" for name, low in bounds.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

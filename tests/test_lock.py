"""requirements.lock pins every dependency that changes behaviour; the Makefile installs from it."""
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", re.M)


def pins() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = [dep for deps in project["optional-dependencies"].values() for dep in deps]
    return [Requirement(dep) for dep in project["dependencies"] + extras]


def test_spellings_and_the_index_format_are_pinned_exactly():
    locked = pins()
    assert re.fullmatch(r"\d+(\.\d+)+", locked["pycountry"])
    assert locked["whoosh-reloaded"] == "2.7.5"


def test_every_declared_dependency_is_locked_at_a_version_it_accepts():
    locked = pins()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in requirements.lock: run make lock"
        assert requirement.specifier.contains(locked[name], prereleases=True), (name, locked[name])


def test_every_pin_has_a_hash():
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 6)[-1])
    assert all("--hash=sha256:" in block for block in blocks if PIN.match(block))


def test_the_makefile_installs_from_the_lock_only():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements.lock" in makefile
    assert "--no-deps -e ." in makefile
    assert not re.search(r"pip install [^\n]*-e '\.\[", makefile)  # no unpinned install of the extras

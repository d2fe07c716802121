"""actions/slots.py names every slot of domain.yml, and the actions set and read no other."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from actions import slots

ROOT = Path(__file__).resolve().parents[2]


def domain_slots() -> set[str]:
    return set(yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["slots"])


def test_the_slot_module_and_the_domain_name_the_same_slots():
    assert set(slots.ALL) == domain_slots()


def test_every_slot_constant_of_the_actions_is_a_domain_slot():
    import importlib

    constants = {}
    for path in sorted((ROOT / "actions").glob("*.py")):
        module = importlib.import_module(f"actions.{path.stem}")
        for name, value in vars(module).items():
            if name.endswith("_SLOT") and name != "REQUESTED_SLOT":
                constants[f"{path.stem}.{name}"] = value
            elif name.endswith("_SLOTS") and isinstance(value, tuple):
                constants.update({f"{path.stem}.{name}[{i}]": v for i, v in enumerate(value)})
    assert constants, "no slot constants found"
    assert {where: value for where, value in constants.items() if value not in slots.ALL} == {}


def test_no_action_sets_or_reads_a_slot_by_a_literal_name():
    literal = re.compile(r"""(?:SlotSet|get_slot)\(\s*["']""")
    found = [
        f"{path.name}:{number}"
        for path in sorted((ROOT / "actions").glob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if literal.search(line)
    ]
    assert found == []

"""Demographic groups of an evaluation set, read from a labels file.

``labels.csv`` has a ``person`` column (the identity folder's name) and any number of group
columns (``sex``, ``age_band``, ``skin_tone`` ...). A cell may name several values separated by
commas (``latino,african``): the identity is then a member of each. An empty cell leaves the
identity out of that column's groups. As NIST IR 8280 does, a group's FMR counts only
impostor pairs whose two identities are both in the group (same-group impostors), since a
face is most often mistaken for one of the same sex, age and ancestry.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

MAX_LABEL_ROWS = 1_000_000
MAX_GROUPS_PER_COLUMN = 64


class LabelsError(ValueError):
    """The labels file cannot be used (missing, no ``person`` column, too large ...)."""


@dataclass(frozen=True)
class Group:
    column: str
    value: str
    members: npt.NDArray[np.bool_]  # over the evaluation's identities

    @property
    def identities(self) -> int:
        return int(self.members.sum())


def read_labels(path: Path, names: list[str]) -> dict[str, list[Group]]:
    """The groups of every label column, as member masks over ``names`` (sorted by value)."""
    index = {name: i for i, name in enumerate(names)}
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = [c for c in (reader.fieldnames or []) if c and c != "person"]
            if "person" not in (reader.fieldnames or []):
                raise LabelsError(f"{path}: no 'person' column")
            values: dict[str, dict[str, set[int]]] = {c: {} for c in columns}
            for number, row in enumerate(reader, start=2):
                if number > MAX_LABEL_ROWS:
                    raise LabelsError(f"{path}: more than {MAX_LABEL_ROWS} rows")
                person = (row.get("person") or "").strip()
                if person not in index:
                    continue  # a labelled identity not in the folder
                for column in columns:
                    for value in (row.get(column) or "").split(","):
                        if value.strip():
                            values[column].setdefault(value.strip(), set()).add(index[person])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LabelsError(f"{path}: cannot be read ({exc.__class__.__name__})") from exc
    groups: dict[str, list[Group]] = {}
    for column, members_of in values.items():
        if len(members_of) > MAX_GROUPS_PER_COLUMN:
            raise LabelsError(f"{path}: column {column!r} has more than 64 values")
        groups[column] = []
        for value in sorted(members_of):
            mask = np.zeros(len(names), np.bool_)
            mask[sorted(members_of[value])] = True
            groups[column].append(Group(column, value, mask))
    return {column: found for column, found in groups.items() if found}

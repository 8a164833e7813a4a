"""Socrata-style identifiers: ``abcd-1234`` per dataset and per release, ``row-...`` per row.

Each is a digest of what it names, so it never changes and needs no storage:
a dataset's id from its own id, a release's from the dataset and the label, a
row's from its primary key values (the same row keeps its ``:id`` from one
release to the next) or, in a dataset without a key, from the release and the
row's place in the file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from openblotter.domain.query.values import json_value
from openblotter.domain.releases import Release

#: Socrata's 4x4 alphabet: lower-case letters and digits without look-alikes (0, 1, l, o).
ALPHABET = "23456789abcdefghijkmnpqrstuvwxyz"
FOUR_BY_FOUR = re.compile(r"[a-z0-9]{4}-[a-z0-9]{4}")


def _digits(parts: Sequence[str], count: int) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    return "".join(ALPHABET[(number >> (5 * i)) & 31] for i in range(count))


def _four_by_four(*parts: str) -> str:
    digits = _digits(parts, 8)
    return f"{digits[:4]}-{digits[4:]}"


def dataset_soda_id(dataset_id: str) -> str:
    """The dataset's Socrata id (its current release)."""
    return _four_by_four("dataset", dataset_id)


def release_soda_id(dataset_id: str, label: str) -> str:
    """The Socrata id of one release of a dataset (a fixed quarter)."""
    return _four_by_four("release", dataset_id, label)


def row_soda_id(key_values: Sequence[Any] | None, release_label: str, row_id: int) -> str:
    """A row's ``:id``: from its primary key when the dataset has one, else from its release
    and place in the file."""
    if key_values is not None:
        parts = ["key", *(str(json_value(v)) for v in key_values)]
    else:
        parts = ["row", release_label, str(row_id)]
    digits = _digits(parts, 12)
    return f"row-{digits[:4]}.{digits[4:8]}~{digits[8:]}"


def socrata_links(
    dataset_id: str, releases: Sequence[Release], *, rows_public: bool
) -> dict[str, Any]:
    """A dataset's Socrata ids and addresses, as its API metadata and page list them."""
    soda_id = dataset_soda_id(dataset_id)
    links: dict[str, Any] = {
        "id": soda_id,
        "metadata": f"/api/views/{soda_id}.json",
        "release_ids": {
            r.label: release_soda_id(dataset_id, r.label) for r in releases if r.public
        },
    }
    if rows_public:
        links["resource"] = f"/resource/{soda_id}.json"
    return links

"""The clusters file of comparable municipalities (CSV: nis, cluster, cluster_name)."""

from __future__ import annotations

from pathlib import Path

from sid.errors import SpecError
from sid.io.csvfile import read_csv


def load_clusters(path: str | Path) -> dict[int, str]:
    """NIS code -> cluster code from the clusters file; a municipality on two rows or a
    code that is not an integer is a SpecError naming the file, the row and the code."""
    path = Path(path)
    df = read_csv(path, text=True, columns=["nis", "cluster", "cluster_name"])
    out: dict[int, str] = {}
    for row, (nis, code) in enumerate(zip(df["nis"], df["cluster"], strict=True), start=2):  # ~300 rows
        if not str(nis).isdigit():
            raise SpecError(f"{path}: row {row}: municipality {nis!r} is not a NIS code (digits); correct it")
        if int(nis) in out:
            raise SpecError(f"{path}: row {row}: municipality {nis} is in clusters {out[int(nis)]} and {code}; "
                            "give each municipality one cluster")
        out[int(nis)] = str(code)
    return out


def cluster_names(path: str | Path) -> dict[str, str]:
    """Cluster code -> cluster name from the clusters file."""
    df = read_csv(Path(path), text=True, columns=["nis", "cluster", "cluster_name"]).drop_duplicates("cluster")
    return dict(zip(df["cluster"], df["cluster_name"], strict=True))

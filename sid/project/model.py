"""The survey project as sid sees it: waves, their spec files, data files and variable roles.

A *project* (DESIGN.md, like a dbt project) is a folder with a project file ``sid.yaml``
at its root. The file names each wave, the wave's spec files, the files of its data
folder and the *roles* of its variables. Loaded and validated once
(:func:`sid.project.load_project`), the :class:`Project` is handed to every stage, so no
stage guesses a file or column name. The file's format is ``docs/project-file.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sid.errors import SpecError


@dataclass(frozen=True)
class FieldworkFile:
    """One fieldwork (mode) file of the data folder and the mode its rows have.

    ``mode`` is the mode code every row of the file gets (``web``); None when the file
    holds the mode itself, in the variable named by the ``mode`` role.
    """

    file: str
    mode: str | None = None


@dataclass(frozen=True)
class DataFiles:
    """The files of a wave's data folder, relative to that folder (``--data DIR``).

    ``fieldwork``: the mode files (SPSS .sav/.zsav). ``gross_sample``: the register
    extract of every sampled person, respondents and non-respondents. ``dispositions``:
    final disposition per sampled person. ``frame``: register population counts per
    calibration cell. ``register_extract``: pseudonymised register variables for linkage
    (optional). ``admin_indicators``: folders of VLIM register indicator sets (optional).
    """

    fieldwork: tuple[FieldworkFile, ...]
    gross_sample: str | None = None
    dispositions: str | None = None
    frame: str | None = None
    register_extract: str | None = None
    admin_indicators: tuple[str, ...] = ()


@dataclass(frozen=True)
class Roles:
    """What each variable is for, by name.

    ``key``: the respondent key (in the fieldwork files, gross sample and dispositions).
    ``group``: the reporting group of tables, indices and reports (SID: origin), a variable
    of the clean wave; it may differ from the design strata. ``sample_group``: the same
    grouping as a column of the gross sample (fieldwork rates and weighting ``within``);
    default: the only stratum variable. ``mode``: the mode variable of the raw wave and the
    dispositions. ``strata``: one or more stratum variables of the gross sample (the design
    stratum is their combination). ``psu``: the PSU variable of each sampling stage (empty:
    unclustered). ``fpc``: per stage, the gross-sample variable holding the population size
    (None: no finite population correction at that stage). ``disposition``: the
    dispositions file's column of final codes.
    """

    key: str
    group: str
    strata: tuple[str, ...]
    sample_group: str | None = None
    mode: str | None = None
    psu: tuple[str, ...] = ()
    fpc: tuple[str | None, ...] = ()
    disposition: str | None = None

    @property
    def reporting_group_in_sample(self) -> str:
        """The gross-sample column of the reporting group (``sample_group`` or the stratum)."""
        if self.sample_group:
            return self.sample_group
        if len(self.strata) == 1:
            return self.strata[0]
        raise SpecError(
            f"roles: strata {list(self.strata)} are several variables and no sample_group is "
            "given; name the gross-sample column of the reporting group as roles.sample_group"
        )


@dataclass(frozen=True)
class Wave:
    """One wave of the project, every path resolved against the project folder.

    ``data_folder`` is the default data folder (``--data`` overrides it); ``run_folder`` the
    default run folder (``--out`` overrides it); ``demo`` the name of sid's built-in demo
    generator that makes a synthetic wave of this shape (None: no demo).
    """

    name: str
    project_dir: Path
    questionnaire: Path
    weighting: Path | None
    linkage: Path | None
    tables: Path | None
    templates: Path | None
    data_folder: Path
    run_folder: Path
    data: DataFiles
    roles: Roles
    demo: str | None = None
    title: str = ""
    smallarea: Path | None = None
    language: str = "nl"  # the reports' language (sid.messages: nl or en)

    def data_path(self, name: str | None, data_dir: Path | None = None) -> Path | None:
        """``name`` (a DataFiles entry) in the data folder (``data_dir`` or the default)."""
        if name is None:
            return None
        return (data_dir if data_dir is not None else self.data_folder) / name

    def relative(self, path: str | Path) -> str:
        """``path`` relative to the project folder when it lies inside it (as the project
        file names it), else as given: outputs do not depend on where the project lies."""
        p = Path(path)
        try:
            return str(p.resolve().relative_to(self.project_dir))
        except ValueError:
            return str(p)

    def spec_paths(self) -> list[Path]:
        """Every spec file of the wave that exists (questionnaire, weighting, linkage, plan)."""
        return [p for p in (self.questionnaire, self.weighting, self.linkage, self.tables)
                if p is not None]


@dataclass(frozen=True)
class Trends:
    """The project's trend over waves (``trends:`` of sid.yaml; sid trend, docs/trends.md):
    the ``harmonisation`` spec file, the ``waves`` compared (in time order, earliest first)
    and the ``run_folder`` the trend is written to (``--out`` overrides it)."""

    harmonisation: Path
    waves: tuple[str, ...]
    run_folder: Path


@dataclass(frozen=True)
class Project:
    """A loaded, validated project: its folder, file, name and waves (in file order)."""

    root: Path
    file: Path
    name: str
    waves: Mapping[str, Wave]
    default_wave: str | None = None
    title: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)
    trends: Trends | None = None

    def wave(self, name: str | None = None) -> Wave:
        """The wave called ``name``; with None, the default wave (or the only one)."""
        if name is None:
            if self.default_wave is not None:
                name = self.default_wave
            elif len(self.waves) == 1:
                name = next(iter(self.waves))
            else:
                raise SpecError(
                    f"{self.file}: the project has waves {', '.join(self.waves)} and no "
                    "default_wave; name one with --wave"
                )
        if name not in self.waves:
            from sid.spec.yamlfile import suggest

            raise SpecError(
                f"{self.file}: no wave {name!r}{suggest(name, self.waves)}; the project's waves "
                f"are {', '.join(self.waves)}"
            )
        return self.waves[name]

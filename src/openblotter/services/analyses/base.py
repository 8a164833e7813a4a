"""What every analysis declares: its parameters, its result, how it runs, and what it does for a
dataset published only as counts.

An analysis module (one per analysis in this package) declares a :class:`Params` model, a
result model made of :class:`Record` models, a run function, its CSV rows (if it has a table
to download) and its :class:`CountsOnly` protection, and puts them together in one
:class:`Analysis`. The registry (:mod:`openblotter.services.analyses.registry`) lists them;
the API routes, the pages' forms and the CLI's ``analyze`` commands are made from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from openblotter.domain.errors import InvalidInput
from openblotter.services.portal import Portal
from openblotter.services.requirements import Need

Filters = list[tuple[str, str]]
Number = int | float


class Record(BaseModel):
    """A typed part of a result. Fields the model does not name are kept as they came (a result
    may carry more than its schema promises), and a record reads like the mapping it replaced
    (``result["rows"]``), so templates and printers read typed results as they read dicts."""

    model_config = ConfigDict(extra="allow")

    def __getitem__(self, key: str) -> Any:
        if key in type(self).model_fields or key in (self.model_extra or {}):
            return getattr(self, key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in self.model_fields_set or key in (self.model_extra or {})

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` when the result has it, else ``default``."""
        if key in self:
            return self[key]
        return default


class Caveat(Record):
    """One plain-language warning about what a number can and cannot show."""

    key: str
    title: str
    text: str


class Suppression(Record):
    """What a counts-only result says about the counts it hides."""

    threshold: int
    interval: int | None = None
    hidden: int
    method: str | None = None
    note: str


class RecordingChange(Record):
    """An abrupt change in the share of one value of a coded field (services/recording.py)."""

    field: str
    category: str
    month: str
    share_before: float
    share_after: float
    records_before: int | None = None
    records_after: int | None = None
    position: str | None = None


class PopulationSource(Record):
    """Where the residents compared with come from."""

    dataset: str | None = None
    geography: str | None = None
    year: int | str | None = None
    source: str | None = None


class CodeMappingRecord(Record):
    """How the department's codes meet the census groups."""

    name: str
    dimension: str
    categories: list[str]
    codes: dict[str, str | None]
    notes: list[str] = []


class Result(Record):
    """What every analysis result names: the dataset it was run on."""

    dataset: str


class Params(BaseModel):
    """An analysis's own parameters; every other query parameter is a filter of the events."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str


@dataclass(frozen=True)
class Allowed:
    """The values a parameter takes (declared beside the type: the services check them)."""

    values: tuple[str, ...]


@dataclass(frozen=True)
class Control:
    """How a page's form asks for a parameter: a select of ``options`` (value, label), or a
    text input with a hint; ``result_options`` adds options read from the shown result."""

    label: str
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    result_options: Callable[[Any], list[tuple[str, str]]] | None = None

    def choices(self, result: Any) -> list[tuple[str, str]]:
        """The options of a select, with those the result adds."""
        extra = self.result_options(result) if self.result_options and result else []
        return [*self.options, *extra]


@dataclass(frozen=True)
class CountsOnly:
    """What an analysis does for a dataset published only as counts.

    ``tables``: it reads the release's protected tables and hides what they hide;
    ``refused``: it would publish counts outside those tables, so it answers 400 before it runs;
    ``withheld``: it runs, and leaves out the figures the tables do not hold.
    """

    policy: Literal["tables", "refused", "withheld"]
    how: str
    #: What the refusal calls the analysis ("the veil of darkness would publish counts ...").
    noun: str = ""


@dataclass(frozen=True)
class Analysis:
    """One analysis, as every door shows it."""

    name: str
    title: str
    summary: str
    params: type[Params]
    result: type[Result]
    run: Callable[[Portal, Any, Filters], Result]
    counts_only: CountsOnly
    #: The families whose datasets the page offers (none: every dataset; the API takes any
    #: dataset, and says why not).
    families: tuple[str, ...]
    #: The fields a dataset needs for the page to offer it (any of a tuple's names will do).
    needs: tuple[Need, ...] = ()
    #: Where the pages, the API and the CLI list it (lower first).
    order: int = 100
    #: The API's name for it, when not ``name`` (``/api/v1/analysis/<api_name>``).
    api_name: str = ""
    #: Its table as CSV rows, numbers unrounded (None: no CSV download).
    csv_rows: Callable[[Any], list[dict[str, Any]]] | None = None
    #: Whether it reads the query API's filters from the other query parameters.
    filters: bool = True
    #: Whether it has a page (``templates/analysis/<name>.html``).
    page: bool = True
    #: A page's own way to run it, told which parameters were given (None: ``run``).
    page_run: Callable[[Portal, Any, Filters, set[str]], Result] | None = None

    @property
    def path(self) -> str:
        """Its JSON API path."""
        return f"/api/v1/analysis/{self.api_name or self.name}"


def allowed_values(params: type[Params], name: str) -> tuple[str, ...]:
    """The values a parameter is declared to take (empty: any text)."""
    for item in params.model_fields[name].metadata:
        if isinstance(item, Allowed):
            return item.values
    return ()


def control(params: type[Params], name: str) -> Control | None:
    """How a page's form asks for a parameter, as declared."""
    for item in params.model_fields[name].metadata:
        if isinstance(item, Control):
            return item
    return None


def split(params: type[Params], raw: Filters) -> tuple[Any, Filters, set[str]]:
    """Raw query parameters as the analysis's own (blank ones left to their defaults), the
    filters (every other parameter) and the names of the own parameters given."""
    names = params.model_fields
    own = {k: v for k, v in raw if k in names and v.strip()}
    filters = [(k, v) for k, v in raw if k not in names]
    if "dataset" not in own and names["dataset"].is_required():
        raise InvalidInput(
            "Choose a dataset: give dataset=<dataset id>.", detail={"parameter": "dataset"}
        )
    return params.model_validate(own), filters, set(own)


def plain_rows(rows: Any) -> list[dict[str, Any]]:
    """Rows as plain mappings, only the keys each row came with (a record's or a dict's)."""
    return [r.model_dump(exclude_unset=True) if isinstance(r, BaseModel) else dict(r) for r in rows]

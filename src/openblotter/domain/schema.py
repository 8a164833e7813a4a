"""Dataset structure as data: a Frictionless Table Schema with OpenBlotter's markers.

A schema is a Table Schema descriptor (https://specs.frictionlessdata.io/table-schema/)
whose fields may carry these extra properties, which Table Schema allows:

- ``valueMap``: source spellings -> one code per meaning (``{"B": "Black"}``);
  matched after trimming and case-folding. Values in no map and not in the
  field's ``enum`` are kept as they are and reported, never turned into another.
- ``unknownValue``: what a blank coded value is stored as (default ``Unknown``).
- ``categorical``: the field is a small set of codes (facets, charts, filters).
- ``privacy``: ``{"treatment": "drop" | "hash" | "generalize" | "keep", "method": ...}``;
  generalize methods are ``hundred_block`` (street address), ``age`` (date of
  birth -> age at the event), ``month`` (date -> first of month), ``hour``
  (time -> the hour), ``grid`` (a coordinate rounded to ``gridSize``);
  ``keep`` publishes the field as recorded, a decision written down with a
  ``reason`` (the detectors found something, the publisher reviewed it).
- ``freeText``: narrative text; not published unless the portal allows the
  field, and then masked for numbers, phones, e-mails, dates and addresses.
- ``sourceNames``: other headers this field has had (a layout change between years).
- ``notRecorded``: the family has this field but the agency's file did not: every
  value is null, shown as "not recorded by this agency" (distinct from the
  agency's own Unknown), and analyses that need it refuse.
- ``blankMeansUnknown`` (field or whole schema): a blank coded value is stored as
  the field's ``unknownValue`` and counted; without it a blank stays blank (null).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FieldType = Literal[
    "string", "integer", "number", "boolean", "date", "time", "datetime", "year", "any"
]
PrivacyTreatment = Literal["drop", "hash", "generalize", "keep"]
GeneralizeMethod = Literal["hundred_block", "age", "month", "hour", "grid"]

DEFAULT_MISSING_VALUES = ["", "NULL", "null", "N/A", "n/a", "NA", "#N/A", "-", "--", "None"]


class Privacy(BaseModel):
    """How a field is protected before anything is stored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    treatment: PrivacyTreatment
    method: GeneralizeMethod | None = None
    reason: str = ""
    # For ``age``: the field holding the event date the age is computed at.
    reference_field: str | None = Field(default=None, alias="referenceField")
    # The name the generalized value is published under (``date_of_birth`` -> ``age``).
    published_as: str | None = Field(default=None, alias="as")
    # For ``grid``: the cell size coordinates are rounded to (0.01 degree, 1000 feet).
    grid: float | None = Field(default=None, alias="gridSize", gt=0)

    def published_type(self, original: FieldType) -> FieldType:
        """The type of the published column after this treatment."""
        if self.treatment == "hash" or self.method == "hundred_block":
            return "string"
        if self.method == "age":
            return "integer"
        if self.method == "grid":
            return "number"
        return original

    @model_validator(mode="after")
    def _method_matches(self) -> Privacy:
        if self.treatment == "generalize" and self.method is None:
            raise ValueError("a 'generalize' treatment needs a method")
        return self


class Constraints(BaseModel):
    model_config = ConfigDict(extra="allow")

    required: bool = False
    unique: bool = False
    enum: list[Any] | None = None
    minimum: float | int | str | None = None
    maximum: float | int | str | None = None


class SchemaField(BaseModel):
    """One column: type, meaning for residents, allowed values, privacy."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: str
    type: FieldType = "string"
    title: str | None = None
    description: str = ""
    format: str | None = None
    constraints: Constraints = Field(default_factory=Constraints)
    value_map: dict[str, str] = Field(default_factory=dict, alias="valueMap")
    unknown_value: str = Field(default="Unknown", alias="unknownValue")
    categorical: bool = False
    privacy: Privacy | None = None
    free_text: bool = Field(default=False, alias="freeText")
    source_names: list[str] = Field(default_factory=list, alias="sourceNames")
    not_recorded: bool = Field(default=False, alias="notRecorded")
    blank_means_unknown: bool | None = Field(default=None, alias="blankMeansUnknown")

    @field_validator("name")
    @classmethod
    def _name_is_plain(cls, name: str) -> str:
        if not name or name.startswith("_") or len(name) > 120:
            raise ValueError(f"field name '{name}' must be 1-120 characters and not start with _")
        return name

    @property
    def enum(self) -> list[Any] | None:
        return self.constraints.enum

    @property
    def coded(self) -> bool:
        """Values are codes: normalized through the value map; unmapped ones reported."""
        return self.type == "string" and (
            self.categorical or bool(self.constraints.enum) or bool(self.value_map)
        )

    @property
    def published(self) -> bool:
        """The field appears in release files (dropped fields do not)."""
        return not (self.privacy and self.privacy.treatment == "drop")

    def normalized_value_map(self) -> dict[str, str]:
        """Lookup keyed by trimmed, case-folded source spelling; enum values map to themselves."""
        lookup: dict[str, str] = {}
        for code in self.constraints.enum or []:
            lookup[str(code).strip().casefold()] = str(code)
        for source, code in self.value_map.items():
            lookup[source.strip().casefold()] = code
        return lookup

    def privacy_label(self) -> str | None:
        """Plain words for the data dictionary: what was done to this field."""
        if self.privacy is None:
            return "masked free text" if self.free_text else None
        if self.privacy.treatment == "generalize":
            if self.privacy.method == "grid":
                return f"generalized (grid): rounded to the nearest {self.privacy.grid or 0.01:g}"
            return f"generalized ({self.privacy.method})"
        if self.privacy.treatment == "keep":
            reason = f": {self.privacy.reason}" if self.privacy.reason else ""
            return f"published as recorded after a privacy review{reason}"
        return {"drop": "dropped", "hash": "hashed"}[self.privacy.treatment]


class TableSchema(BaseModel):
    """A dataset's structure: ordered fields, primary key, missing-value tokens."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    fields: list[SchemaField]
    primary_key: list[str] = Field(default_factory=list, alias="primaryKey")
    missing_values: list[str] = Field(
        default_factory=lambda: list(DEFAULT_MISSING_VALUES), alias="missingValues"
    )
    #: Whether a blank coded value means the field's Unknown code (a family says so);
    #: a field's own ``blankMeansUnknown`` overrides it. Custom datasets: blank stays blank.
    blank_means_unknown: bool = Field(default=False, alias="blankMeansUnknown")

    def blank_is_unknown(self, field: SchemaField) -> bool:
        """Whether a blank in coded ``field`` is stored as its Unknown code (else null)."""
        if field.blank_means_unknown is not None:
            return field.blank_means_unknown
        return self.blank_means_unknown

    @field_validator("primary_key", mode="before")
    @classmethod
    def _key_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _key_fields_exist(self) -> TableSchema:
        names = [f.name for f in self.fields]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate field names: {', '.join(duplicates)}")
        missing = [k for k in self.primary_key if k not in names]
        if missing:
            raise ValueError(f"primaryKey names fields that do not exist: {', '.join(missing)}")
        return self

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> SchemaField | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def with_not_recorded(self, names: list[str]) -> TableSchema:
        """This schema with ``names`` marked not recorded by the agency (and no others)."""
        fields = [
            f.model_copy(update={"not_recorded": f.name in names})
            if f.not_recorded != (f.name in names)
            else f
            for f in self.fields
        ]
        return self.model_copy(update={"fields": fields})

    def published_fields(self) -> list[SchemaField]:
        return [f for f in self.fields if f.published]

    def public_schema(self, *, free_text_allowed: set[str] | None = None) -> TableSchema:
        """The schema of the release file: what a reader of the published data sees.

        Dropped fields (and free text not allowed by the portal) are removed;
        generalized fields carry their published name and type.
        """
        allowed = free_text_allowed or set()
        kept: list[SchemaField] = []
        renames: dict[str, str] = {}
        for f in self.fields:
            if not f.published or (f.free_text and f.name not in allowed):
                continue
            if f.privacy is not None:
                name = f.privacy.published_as or f.name
                renames[f.name] = name
                f = f.model_copy(update={"name": name, "type": f.privacy.published_type(f.type)})
            kept.append(f)
        names = {f.name for f in kept}
        key = [renames.get(k, k) for k in self.primary_key]
        return self.model_copy(
            update={"fields": kept, "primary_key": [k for k in key if k in names]}
        )

    def to_descriptor(self) -> dict[str, Any]:
        """The JSON descriptor (Table Schema property names, empty extras left out)."""
        return self.model_dump(by_alias=True, exclude_defaults=True, mode="json")

    @classmethod
    def from_descriptor(cls, descriptor: dict[str, Any]) -> TableSchema:
        return cls.model_validate(descriptor)

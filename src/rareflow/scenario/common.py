"""Pieces shared by the scenario schema, its shocks and its levers."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    ValidationInfo,
    field_validator,
)
from pydantic_core import core_schema

from rareflow.scenario.distributions import MAX_MAGNITUDE, bounds

FIRST_DAY = date(1950, 1, 1)
LAST_DAY = date(2150, 12, 31)
"""Dates a scenario may name. Time steps are labelled with nanosecond datetimes (valid 1677 to
2262) and a horizon is at most 50 years, so dates outside this span would wrap around; none of
the dataset's figures is that old either."""


def _month_or_date(value: Any) -> Any:
    """Accept 'YYYY-MM' (first of the month) as well as 'YYYY-MM-DD'."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}", value.strip()):
        return f"{value.strip()}-01"
    return value


def _in_span(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(
            f"date {value.isoformat()} is out of range: expected one from {FIRST_DAY:%Y-%m} "
            f"to {LAST_DAY:%Y-%m}"
        )
    return value


Day = Annotated[date, BeforeValidator(_month_or_date), AfterValidator(_in_span)]
"""A date, written YYYY-MM-DD (or YYYY-MM for the first of a month)."""

Form = Literal["concentrate", "oxide", "metal", "alloy", "magnet"]
FORMS: tuple[Form, ...] = ("concentrate", "oxide", "metal", "alloy", "magnet")
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO alpha-3 code")]


MONEY_FIELD = re.compile(r"usd|inr|capex|opex|subsid|budget|premium|price(?!_growth)|cost(?!_f)")
"""Names of money fields (prices, capital and operating costs, subsidies, premiums): never
negative. A price's growth and a cost factor are rates, not money."""


class StrictModel(BaseModel):
    """Base of every scenario model: unknown keys are errors; instances are immutable.

    NaN and infinities are refused in every number (``allow_inf_nan=False``): a NaN share or
    surge would pass every range check and silently empty a result.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    @field_validator("*", mode="after")
    @classmethod
    def _finite_range(cls, value: Any, info: ValidationInfo) -> Any:
        """Keep every number (or distribution) within +-MAX_MAGNITUDE; money never negative."""
        name = info.field_name or ""
        is_number = isinstance(value, float) or (
            isinstance(value, BaseModel) and hasattr(value, "ppf")
        )
        if is_number:
            low = 0.0 if MONEY_FIELD.search(name) else -MAX_MAGNITUDE
            check_range(value, low, MAX_MAGNITUDE, name)
        return value


def check_range(value: Any, low: float, high: float, what: str) -> None:
    """Raise ValueError if a number (or any value of a distribution) leaves [low, high]."""
    lo, hi = bounds(value)
    if lo < low - 1e-12 or hi > high + 1e-12:
        raise ValueError(f"{what} must lie in [{low:g}, {high:g}]; got values in [{lo:g}, {hi:g}]")


def check_dates(start: date, end: date | None) -> None:
    """Raise ValueError if a period ends before it starts."""
    if end is not None and end < start:
        raise ValueError(f"end ({end}) is before start ({start})")


@dataclass(frozen=True)
class Spec:
    """A scenario number's unit and bounds, declared once on its field.

    ``t_per_year: Annotated[Number, Spec("t/yr", 0, 1e7)]`` validates the number (every value a
    distribution can take must lie in ``[low, high]``; the error names the field's own path) and
    is read back by :meth:`rareflow.scenario.levers.base.LeverBase.field_specs` for forms, the
    optimiser and the documentation.

    Parameters
    ----------
    unit
        Unit of the number (``t/yr``, ``month``, ``share``, ``INR crore``, ``USD/kg``...).
    low, high
        Bounds of every value it may take.
    """

    unit: str
    low: float = -math.inf
    high: float = math.inf

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Check the bounds after the field's own validation."""
        spec = self

        def check(value: Any, info: core_schema.ValidationInfo) -> Any:
            if value is not None:
                check_range(value, spec.low, spec.high, str(info.field_name))
            return value

        return core_schema.with_info_after_validator_function(check, handler(source))

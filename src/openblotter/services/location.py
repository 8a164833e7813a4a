"""Where the portal's city is: the settings the sunset-based analyses need, or a clear refusal."""

from __future__ import annotations

from openblotter.config import Settings
from openblotter.domain.errors import InvalidInput


def city_location(settings: Settings) -> tuple[str, float, float, str]:
    """The city's name, latitude, longitude and IANA time zone, as configured.

    Raises InvalidInput (400) naming the missing settings when the portal has no
    location: the veil of darkness must never fall back to another city's sunsets.
    """
    missing = settings.missing_location
    if missing:
        names = ", ".join(f"OPENBLOTTER_{name.upper()}" for name in missing)
        raise InvalidInput(
            "This portal has no location configured, so sunset and dusk cannot be computed "
            f"for its stops: {names} not set. The portal's operator sets them with "
            "openblotter init (or in openblotter.toml or the environment; see "
            "docs/operations.md).",
            detail={"settings": missing},
        )
    assert settings.city_latitude is not None and settings.city_longitude is not None
    assert settings.city_timezone is not None
    name = settings.place_name or f"{settings.city_latitude}, {settings.city_longitude}"
    return name, settings.city_latitude, settings.city_longitude, settings.city_timezone

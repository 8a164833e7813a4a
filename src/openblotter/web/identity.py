"""Who publishes the portal, as every page shows it: agency, city, contact and licence.

Nothing here has a default agency or city: a portal that was not set up with
``openblotter init`` says so on its pages instead of borrowing an identity.
"""

from __future__ import annotations

from typing import Any

from openblotter.config import Settings

#: Licences agencies commonly publish open data under (SPDX ids), linked in the footer.
LICENSE_URLS = {
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC-BY-SA-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "PDDL-1.0": "https://opendatacommons.org/licenses/pddl/1-0/",
    "ODC-By-1.0": "https://opendatacommons.org/licenses/by/1-0/",
    "ODbL-1.0": "https://opendatacommons.org/licenses/odbl/1-0/",
}
#: What pages call the publisher when no agency is configured.
UNNAMED_AGENCY = "the police department"


def license_url(license_name: str | None) -> str | None:
    """A link for the licence: its own URL, or the page of a known SPDX id."""
    if not license_name:
        return None
    if license_name.startswith(("https://", "http://")):
        return license_name
    return LICENSE_URLS.get(license_name)


def page_identity(settings: Settings) -> dict[str, Any]:
    """The template variables of the portal's identity (base.html, home.html)."""
    return {
        "portal_name": settings.portal_name,
        "agency": settings.agency,
        "agency_name": settings.agency or UNNAMED_AGENCY,
        "place_name": settings.place_name,
        "contact_email": settings.contact_email,
        "license": settings.license,
        "license_url": license_url(settings.license),
        "unconfigured": settings.agency is None and not settings.demo,
    }


def publisher_name(settings: Settings) -> str:
    """The publisher in metadata (JSON-LD, OpenAPI): the agency, else the portal's name."""
    return settings.agency or settings.portal_name

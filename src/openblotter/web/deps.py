"""Dependencies injected into routes through typed aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from openblotter.services.portal import Portal


async def get_portal(request: Request) -> Portal:
    # async: a plain function would cost every request a hop through the thread pool.
    portal: Portal = request.app.state.portal
    return portal


PortalDep = Annotated[Portal, Depends(get_portal)]

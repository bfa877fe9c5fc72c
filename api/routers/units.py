"""Units of the tree (admin creates; everyone logged in may list)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, HTTPException

from api.deps import CurrentUser, Directory, Writer, require
from api.schemas import UnitCreate, UnitPublic
from domain.requests import AlreadyDone

router = APIRouter(prefix="/api/v1/units", tags=["units"])


@router.post("", status_code=201, response_model=UnitPublic,
             responses={403: {"description": "admins only, within their own subtree"},
                        409: {"description": "the code is taken"},
                        422: {"description": "invalid input"}})
def create_unit(body: UnitCreate, write: Writer, directory: Directory) -> dict[str, Any]:
    """Add a unit under a parent in the admin's own subtree."""
    user, request = write.user, write.request
    require(user, "admin")
    if body.parent is None or not directory.within(body.parent, user.unit):
        if body.parent is not None:
            directory.unit(body.parent, field="parent")
        raise HTTPException(403, "a unit can be added only below your own unit "
                                 "(the county itself is created by `petitions init`)")
    try:
        unit = directory.create_unit(code=body.code, name=body.name, level=body.level,
                                     parent=body.parent, actor=user.username, request=request)
    except AlreadyDone:
        unit = directory.unit(body.code)
    return asdict(unit)


@router.get("", response_model=list[UnitPublic])
def list_units(user: CurrentUser, directory: Directory) -> list[dict[str, Any]]:
    """Every unit of the tree, by code."""
    return [asdict(u) for _, u in sorted(directory.units().items())]

"""Users, as the instance's admins (the admins of `default`) manage them."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api.authorization import InstanceAdmin
from api.deps import IdentityServiceDep
from api.errors import Conflict
from api.schemas.errors import error_responses

router = APIRouter(prefix="/users", tags=["users"])


@router.delete(
    "/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404, 409)
)
async def delete(
    user_id: uuid.UUID, principal: InstanceAdmin, identity: IdentityServiceDep
) -> None:
    """Delete a user with their tokens, sessions and memberships. The audit log keeps
    their email; their personal workspace stays, without an owner."""
    if user_id == principal.user_id:
        raise Conflict("an admin cannot delete themselves")
    await identity.delete_user(user_id)

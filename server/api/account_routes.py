"""Administrators manage people's accounts (every action audited):

    POST   /v1/admin/users/{name}/disable         logins refused, tokens ended
    POST   /v1/admin/users/{name}/enable
    POST   /v1/admin/users/{name}/password        {"password"}: tokens issued before end
    DELETE /v1/admin/users/{name}                 remove (never the last two administrators)

Administrators' own accounts cannot be enabled or given a new password here (one stolen
administrator login must not take over a second administrator): that is done with
``kiosk server`` on the server host."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel

from models.server_tables import UserRow
from server import accounts
from server.api.schemas import Identifier, NewPassword, Strict, error_responses
from server.security.identity import require_role
from server.security.tokens import Role, TokenClaims
from server.state import ServerState, server_state

router = APIRouter(
    prefix="/v1/admin/users",
    tags=["administrator"],
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
ADMINISTRATORS = require_role(Role.ADMINISTRATOR)


class PasswordIn(Strict):
    password: NewPassword


class AccountOut(BaseModel):
    name: str
    done: str


def _role_of(state: ServerState, name: str) -> str:
    with state.database.sessions() as session:
        user = session.get(UserRow, name)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no user {name}")
    return user.role


def _not_an_administrator(state: ServerState, name: str) -> None:
    if _role_of(state, name) == Role.ADMINISTRATOR.value:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="administrators' accounts are managed with `kiosk server` on the server host",
        )


def _apply(action: str, work: Callable[[], None], name: str) -> AccountOut:
    try:
        work()
    except accounts.AccountNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    except accounts.AccountError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    return AccountOut(name=name, done=action)


@router.post("/{name}/disable", response_model=AccountOut, summary="disable a user")
def disable(
    name: Identifier,
    user: TokenClaims = Depends(ADMINISTRATORS),
    state: ServerState = Depends(server_state),
) -> AccountOut:
    return _apply(
        "disabled", lambda: accounts.disable_user(state.database, name, actor=user.user), name
    )


@router.post("/{name}/enable", response_model=AccountOut, summary="enable a user")
def enable(
    name: Identifier,
    user: TokenClaims = Depends(ADMINISTRATORS),
    state: ServerState = Depends(server_state),
) -> AccountOut:
    _not_an_administrator(state, name)
    return _apply(
        "enabled", lambda: accounts.enable_user(state.database, name, actor=user.user), name
    )


@router.post("/{name}/password", response_model=AccountOut, summary="reset a password")
def reset_password(
    name: Identifier,
    body: PasswordIn,
    user: TokenClaims = Depends(ADMINISTRATORS),
    state: ServerState = Depends(server_state),
) -> AccountOut:
    _not_an_administrator(state, name)
    return _apply(
        "password_reset",
        lambda: accounts.reset_password(state.database, name, body.password, actor=user.user),
        name,
    )


@router.delete("/{name}", response_model=AccountOut, summary="remove a user")
def remove(
    name: Identifier,
    user: TokenClaims = Depends(ADMINISTRATORS),
    state: ServerState = Depends(server_state),
) -> AccountOut:
    return _apply(
        "removed", lambda: accounts.remove_user(state.database, name, actor=user.user), name
    )

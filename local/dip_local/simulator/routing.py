"""Routes declared on the methods of a platform's handler class, registered on one router per instance."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter

Handler = TypeVar("Handler", bound=Callable[..., object])


def route(method: str, path: str) -> Callable[[Handler], Handler]:
    """Mark a handler method as the endpoint of ``method`` ``path``."""

    def mark(handler: Handler) -> Handler:
        handler.__route__ = (method, path)  # type: ignore[attr-defined]
        return handler

    return mark


def router_for(api: object) -> APIRouter:
    """A router with ``api``'s marked methods as endpoints, in the order the class defines them (the order
    paths are matched in)."""
    router = APIRouter()
    for name, member in vars(type(api)).items():
        declared = getattr(member, "__route__", None)
        if declared is not None:
            method, path = declared
            router.add_api_route(path, getattr(api, name), methods=[method])
    return router

"""A query parameter an endpoint does not take is a 400 that names it, on every endpoint and
version. Ignoring it gives silent wrong answers: `GET /mediaLibrary?externalIds=X&systemName=S`
used to return every entry of the system when `externalIds` was not a parameter yet, and a
misspelt filter widens a list the same way.

What an endpoint takes is read from the route FastAPI matched: every query parameter its
function and its dependencies declare, by the name on the wire (the alias)."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from medialib.errors import BadRequest

# The routes live as long as the app: what each takes is worked out once, by the route's id
# (a Starlette route compares by value, so it cannot be a key itself).
_TAKEN: dict[int, frozenset[str]] = {}


def check_query(request: Request) -> None:
    """Refuse the query parameters the matched route does not declare."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    taken = _TAKEN.get(id(route))
    if taken is None:
        taken = _TAKEN[id(route)] = _declared(route.dependant)
    unknown = [name for name in request.query_params if name not in taken]
    if unknown:
        listed = ", ".join(sorted(taken)) or "none"
        problem = f"is not a query parameter of this endpoint (it takes: {listed})"
        raise BadRequest(details={_shown(name): problem for name in unknown[:20]})


def _declared(dependant: Dependant) -> frozenset[str]:
    names: set[str] = set()
    waiting = [dependant]
    while waiting:
        one = waiting.pop()
        names.update(param.alias for param in one.query_params)
        waiting.extend(one.dependencies)
    return frozenset(names)


def _shown(name: str) -> str:
    """A stranger's parameter name, as an error may repeat it: short and printable."""
    printable = "".join(ch if ch.isprintable() else "?" for ch in name)
    return printable if len(printable) <= 64 else printable[:64] + "…"


async def only_known_query(request: Request) -> None:
    """`check_query` as a dependency, for a route that has no caller (an upload URL's PUT)."""
    check_query(request)

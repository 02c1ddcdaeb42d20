"""An import kind as the bulk client needs to know it. The client speaks HTTP only, so it is told
(the `medialib import` command makes these from the server code's own list of kinds,
`imports/kinds.py`): a new kind there is a new choice here, with nothing to add."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClientKind:
    plural: str  # the route, /import/<plural>, and the request's and status's list key
    media_type: str  # the media type of an item that names none
    media_kind: str  # mediaImage | mediaVideo | mediaFile: how a local file of it is read

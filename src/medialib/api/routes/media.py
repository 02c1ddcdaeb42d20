"""`GET /media/{key}`: stored assets, and with imgix's parameters, their renditions.

Only keys the library knows (the `assets` table) are served, with the type recorded when they
were stored, and never while their entry is revoked or invalid (library/validity.py); renditions
follow their original.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from medialib.api.deps import renditions, runtime
from medialib.api.schemas import ErrorBody
from medialib.api.serving import serve_object, unchanged_variant, variant_response
from medialib.bootstrap import Runtime
from medialib.errors import NotFound
from medialib.library.assets import servable
from medialib.library.renditions import Renditions, Variant
from medialib.media.renditions.params import asks_for_rendition, parse_spec

router = APIRouter(tags=["media"])


@router.head("/media/{key:path}", include_in_schema=False)
@router.get(
    "/media/{key:path}",
    summary="Serve a stored asset, or a rendition of an image (imgix's URL parameters)",
    response_class=Response,
    responses={
        200: {"description": "The asset's or the rendition's bytes", "content": {"*/*": {}}},
        206: {"description": "A range of the asset's bytes", "content": {"*/*": {}}},
        304: {"description": "Not modified"},
        400: {"model": ErrorBody, "description": "A rendition parameter has a bad value"},
        403: {
            "model": ErrorBody,
            "description": "The asset's entry is revoked or invalid, or the rendition URL's "
            "signature is missing or wrong",
        },
        404: {"model": ErrorBody, "description": "No such asset"},
        416: {"model": ErrorBody, "description": "The range is outside the asset"},
        503: {"model": ErrorBody, "description": "The storage cannot be reached"},
    },
)
async def serve_media(
    key: str,
    request: Request,
    rt: Runtime = Depends(runtime),
    images: Renditions = Depends(renditions),
) -> Response:
    variant = await wanted_variant(request, key, images)
    if variant is not None:
        unchanged = unchanged_variant(request, variant)
        if unchanged is not None:
            return unchanged
        made = await images.read(key, variant, body=request.method != "HEAD")
        return variant_response(variant, made)
    mime_type = await servable(rt.db, key)
    return await serve_object(
        request, rt.storage, key, mime_type, NotFound(details={"message": "No asset found."})
    )


async def wanted_variant(request: Request, key: str, images: Renditions) -> Variant | None:
    """The variant a rendition URL names, once its signature, its parameters and its original
    have passed every check (each failure raised); None when the URL asks for no rendition, or
    for one of an original served as it is (an SVG). Cached hits take the same way in
    (api/rendition_hits.py)."""
    params = request.query_params
    if not asks_for_rendition(params.keys()):
        return None
    images.check_signature(request.url.path, key, request.url.query)
    spec = parse_spec(params.multi_items())
    return await images.find(key, spec, request.headers.get("accept"))

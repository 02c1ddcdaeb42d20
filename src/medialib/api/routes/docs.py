"""`/docs`: Swagger UI from files vendored in the package (no CDN, so that it works on a network
without internet access), with a menu of the OpenAPI document of each API version, which
`GET /api/{version}/openapi.json` serves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, HTMLResponse

from medialib.api.deps import VersionPath, api_state
from medialib.api.openapi import documents_of
from medialib.api.responses import JSONBody

# swagger-ui-dist, vendored in api/static/swagger-ui (see the README there). It is part of the
# files' URLs, so that browsers can keep them for a year and still get the next version's.
SWAGGER_UI = "5.35.0"
STATIC = Path(__file__).resolve().parent.parent / "static" / "swagger-ui"
_FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
_CACHED = {"Cache-Control": "public, max-age=31536000, immutable"}

router = APIRouter(include_in_schema=False)

_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>medialib API</title>
<link rel="stylesheet" href="{static}/swagger-ui.css">
<link rel="icon" type="image/png" href="{static}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{static}/swagger-ui-bundle.js"></script>
<script src="{static}/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle(Object.assign({config}, {{
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  plugins: [SwaggerUIBundle.plugins.DownloadUrl],
  layout: "StandaloneLayout"
}}));
</script>
</body>
</html>
"""


@router.get("/docs")
async def docs(request: Request) -> HTMLResponse:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    names = api_state(request).versions.newest_first()
    config: dict[str, Any] = {
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        # Swagger UI would otherwise show a badge image from validator.swagger.io.
        "validatorUrl": None,
    }
    if names:
        config["urls"] = [
            {"url": f"{root}/api/{name}/openapi.json", "name": name} for name in names
        ]
        config["urls.primaryName"] = names[0]
    else:
        config["url"] = f"{root}/openapi.json"
    page = _PAGE.format(static=f"{root}/docs/static/{SWAGGER_UI}", config=_script_json(config))
    return HTMLResponse(page)


@router.get(f"/docs/static/{SWAGGER_UI}/{{name}}")
async def static_file(name: str) -> FileResponse:
    media_type = _FILES.get(name)
    if media_type is None:
        raise HTTPException(404)
    return FileResponse(STATIC / name, media_type=media_type, headers=_CACHED)


@router.get("/api/{version}/openapi.json")
async def version_document(request: Request, version: str = VersionPath) -> JSONBody:
    """The OpenAPI document of one version; a retired version answers 410 as everywhere."""
    api_version = api_state(request).versions.resolve(version)
    document = documents_of(request.app).of(api_version)
    root = str(request.scope.get("root_path", "")).rstrip("/")
    if root:
        document = {**document, "servers": [{"url": root}]}
    return JSONBody(document)


def _script_json(value: Any) -> str:
    """JSON that cannot end the <script> it is written into."""
    text = json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

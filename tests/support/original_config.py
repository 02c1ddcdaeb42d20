"""A project config as the original API's docs write one: every metadata plugin its docs allow
on media types, each configured as its plugin page's example (`contentTypeConfig`), the media
type example of `reference/project-config/media-types.md` and the named crops, poster image and
transcoding examples of the media library setup guide. Handles are the docs' `myHandle` made
unique. Beside it, a valid value of each property (as the plugin page's `storageFormat` shapes
it) and one that its rules refuse.
"""

from __future__ import annotations

from typing import Any

_COMMON: dict[str, Any] = {
    "hideFromForm": False,
    "required": True,
    "requiredErrorMessage": "Provide a value",
    "index": True,
}
_LABEL_ONLY: dict[str, Any] = {"label": "foo", "config": {"readOnly": True}}
_REFERENCE_UI: dict[str, Any] = {
    "label": "foo",
    "config": {
        "style": "default",
        "useDashboard": "",
        "baseFilters": [],
        "displayFilters": [],
        "cacheSearch": False,
        "readOnly": False,
    },
}

IMAGE_METADATA: list[dict[str, Any]] = [
    # media-types.md "Example"
    {
        "handle": "title",
        "type": "li-text",
        "config": {
            "required": True,
            "requiredErrorMessage": "Please provide a title",
            "index": True,
        },
    },
    {"handle": "caption", "type": "li-text"},
    {
        "handle": "source",
        "type": "li-text",
        "config": {
            "required": True,
            "requiredErrorMessage": "Please provide a source",
            "index": True,
        },
    },
    {"handle": "note", "type": "li-text"},
    {"handle": "validDateRange", "type": "li-datetime-validity"},
    {"handle": "googleVision", "type": "li-google-vision", "config": {"index": True}},
    # the plugin pages
    {
        "handle": "text",
        "type": "li-text",
        "config": _COMMON
        | {
            "minLength": 100,
            "maxLength": 200,
            "recommendedMinLength": 110,
            "recommendedMaxLength": 150,
            "allowNewlines": False,
            "useAsTitle": True,
            "translatable": True,
            "dataProvider": {
                "type": "labelValuePair",
                "items": [
                    {"label": "Item A", "value": "a"},
                    {"label": "Item B", "value": "b", "isDefault": True},
                    {"label": "Item C", "value": "c"},
                ],
            },
        },
        "ui": {"label": "foo", "config": {"placeholder": "bar", "readOnly": True}},
    },
    {
        "handle": "flag",
        "type": "li-boolean",
        "config": {"hideFromForm": False, "index": True},
        "ui": _LABEL_ONLY,
    },
    {
        "handle": "colour",
        "type": "li-color",
        "config": _COMMON | {"translatable": True},
        "ui": {
            "label": "My Label",
            "config": {"useInputTypeColor": False, "readOnly": True, "placeholder": "foo"},
        },
    },
    {
        "handle": "day",
        "type": "li-date",
        "config": _COMMON | {"translatable": False},
        "ui": _LABEL_ONLY,
    },
    {"handle": "moment", "type": "li-datetime", "config": _COMMON, "ui": _LABEL_ONLY},
    {
        "handle": "document",
        "type": "li-document-reference",
        "config": _COMMON
        | {
            "documentType": "article",
            "contentType": "my-content-type",
            "published": True,
            "prefillAuthor": True,
        },
        "ui": _REFERENCE_UI,
    },
    {
        "handle": "documents",
        "type": "li-document-references",
        "config": _COMMON
        | {
            "documentType": "article",
            "contentType": "my-content-type",
            "published": True,
            "prefillAuthor": True,
            "min": 2,
            "max": 4,
        },
        "ui": _REFERENCE_UI | {"config": _REFERENCE_UI["config"] | {"sortable": True}},
    },
    {
        "handle": "choice",
        "type": "li-enum",
        "config": _COMMON
        | {
            "dataProvider": {
                "type": "labelValuePair",
                "items": [
                    {"label": "Tag A", "value": "a"},
                    {"label": "Tag B", "value": "b", "isDefault": True},
                    {"label": "Tag C", "value": "c"},
                ],
            }
        },
        "ui": {"label": "foo", "config": {"readOnly": True, "placeholder": "foo"}},
    },
    {
        "handle": "externalId",
        "type": "li-external-id",
        "config": {"hideFromForm": True, "index": True},
    },
    {
        "handle": "teaserImage",
        "type": "li-image",
        # media-library-setup "Metadata Properties"
        "config": {"namedCrops": [{"name": "desktop"}, {"name": "mobile", "isOptional": True}]},
    },
    {
        "handle": "count",
        "type": "li-integer",
        "config": _COMMON
        | {
            "minValue": 1,
            "maxValue": 50,
            "translatable": True,
            "dataProvider": {
                "type": "labelValuePair",
                "items": [
                    {"label": "A", "value": 1},
                    {"label": "B", "value": 2, "isDefault": True},
                    {"label": "C", "value": 3},
                ],
            },
        },
        "ui": {"label": "foo", "config": {"placeholder": "bar", "readOnly": True}},
    },
    {"handle": "invalid", "type": "li-invalid", "ui": {"label": "foo"}},
    {
        "handle": "licenseProfile",
        "type": "li-license-profile",
        "config": {"index": True},
        "ui": {"label": "License Profile"},
    },
    {
        "handle": "myMediaHandle",
        "type": "li-media-handle",
        "config": {"hideFromForm": False, "index": True},
        "ui": {"label": "Image ID"},
    },
    {"handle": "language", "type": "li-media-language"},
    {"handle": "translations", "type": "li-metadata-translations", "config": {"index": True}},
    {
        "handle": "namedCrops",
        "type": "li-named-crops",
        # media-library-setup "Named Crops"
        "config": {
            "index": True,
            "namedCrops": [{"name": "mobile", "isOptional": True}, {"name": "desktop"}],
        },
        "ui": {"label": "Named Crops"},
    },
    {
        "handle": "numbers",
        "type": "li-numeric-list",
        "config": {
            "required": True,
            "requiredErrorMessage": "Custom required message",
            "index": True,
            "maxItems": 5,
        },
        "ui": {"label": "foo", "config": {"placeholder": "bar", "readOnly": True}},
    },
    {
        "handle": "author",
        "type": "li-reference",
        "config": _COMMON
        | {
            "referenceType": "document",
            "documentType": "data-record",
            "contentType": "author",
            "prefillAuthor": True,
            "published": True,
        },
        "ui": {"label": "foo", "config": {"displayFilters": ["timeRange"]}},
    },
    {
        "handle": "related",
        "type": "li-reference-list",
        "config": _COMMON
        | {
            "referenceType": "documents",
            "documentType": "article",
            "contentType": "my-content-type",
            "min": 3,
            "max": 6,
        },
    },
    {
        "handle": "tags",
        "type": "li-string-list",
        "config": _COMMON
        | {
            "dataProvider": {
                "type": "labelValuePair",
                "items": [
                    {"label": "Item A", "value": "a"},
                    {"label": "Item B", "value": "b", "isDefault": True},
                    {"label": "Item C", "value": "c"},
                ],
            }
        },
        "ui": {"label": "foo", "config": {"readOnly": True}},
    },
    {"handle": "checkedAt", "type": "li-system-datetime", "config": _COMMON, "ui": _LABEL_ONLY},
    {
        "handle": "priority",
        "type": "li-system-integer",
        "config": _COMMON
        | {
            "minValue": 1,
            "maxValue": 50,
            "translatable": True,
            "dataProvider": {"dataSource": "labelValuePairDataSource"},
        },
        "ui": {"label": "foo", "config": {"placeholder": "bar", "readOnly": True}},
    },
]

VIDEO_METADATA: list[dict[str, Any]] = [
    {
        "handle": "title",
        "type": "li-text",
        "config": {
            "required": True,
            "requiredErrorMessage": "Please provide a title",
            "maxLength": 200,
        },
    },
    {
        "handle": "posterImage",
        "type": "li-poster-image",
        "config": {"required": True, "requiredErrorMessage": "Provide a value"},
        "ui": {
            "label": "Poster Image",
            "config": {"uploadMediaType": "posterImage", "useDashboard": "posterImagesDashboard"},
        },
    },
    {
        "handle": "transcoding",
        "type": "li-transcoding-state",
        "config": {"index": True},
        "ui": {"label": "My Transcoding"},
    },
    {
        "handle": "clip",
        "type": "li-video-reference",
        "config": _COMMON | {"translatable": True},
        "ui": {
            "config": {
                "posterImageUploadMediaType": "posterImage",
                "posterImageUseDashboard": "posterImagesDashboard",
            }
        },
    },
]

ORIGINAL_MEDIA_TYPES: list[dict[str, Any]] = [
    {
        "handle": "image",
        "type": "mediaImage",
        "info": {"label": "Image", "description": "Media type for images"},
        "metadata": IMAGE_METADATA,
        "exifExtraction": {
            "mappings": [
                {"field": "Title", "metadataPropertyName": "title"},
                {"field": "Source", "metadataPropertyName": "source"},
                {"field": "Description", "metadataPropertyName": "caption"},
            ]
        },
        "hugoExtraction": {
            "mappings": [
                {"field": "title", "metadataPropertyName": "title"},
                {"field": "caption", "metadataPropertyName": "caption"},
                {"field": "source", "metadataPropertyName": "source"},
            ]
        },
        "comyanExtraction": {
            "mappings": [
                {"field": "ImgName", "metadataPropertyName": "title"},
                {"field": "IPTCCaption", "metadataPropertyName": "caption"},
                {"field": "IPTCByLine", "metadataPropertyName": "source"},
                {"fullObject": True, "metadataPropertyName": "note"},
            ]
        },
        "mediaSources": [
            {
                "handle": "example",
                "plugin": "examplePlugin",
                "info": {"label": "Example"},
                "config": {"accessKey": "****"},
            }
        ],
        "editor": {
            "dashboard": {
                "displayFilters": [{"filterName": "liDateTimeRange"}],
                "card": {"name": "myImageCard"},
                "baseFilters": [{"key": "metadata.transformed", "term": True}],
            },
            "managementDashboard": {"displayFilters": [{"filterName": "liDateTimeRange"}]},
        },
        "deletionRoutine": {
            "enabled": False,
            "filters": [{"key": "createdAt", "range": {"lte": "now-30d"}}],
        },
    },
    {
        # An image type to import files into whose own metadata fills it (IPTC names).
        "handle": "photo",
        "type": "mediaImage",
        "metadata": [
            {"handle": "title", "type": "li-text", "config": {"required": True}},
            {"handle": "credit", "type": "li-text"},
            {"handle": "creator", "type": "li-text"},
            {"handle": "keywords", "type": "li-string-list"},
            {"handle": "job", "type": "li-text"},
            {"handle": "shotOn", "type": "li-date"},
        ],
        "exifExtraction": {
            "mappings": [
                {"field": "Title", "metadataPropertyName": "title"},
                {"field": "Credit Line", "metadataPropertyName": "credit"},
                {"field": "By-line", "metadataPropertyName": "creator"},
                {"field": "Keywords", "metadataPropertyName": "keywords"},
                {"field": "Job Id", "metadataPropertyName": "job"},
                {"field": "Date Created", "metadataPropertyName": "shotOn"},
            ]
        },
    },
    {
        "handle": "video",
        "type": "mediaVideo",
        "metadata": VIDEO_METADATA,
        "asset": {"translatable": True, "replaceable": True},
    },
    {
        "handle": "file",
        "type": "mediaFile",
        "info": {"label": "Files", "description": ""},
        "metadata": [
            {
                "handle": "title",
                "type": "li-text",
                "config": {
                    "required": True,
                    "requiredErrorMessage": "Please provide a title",
                    "maxLength": 200,
                },
            }
        ],
    },
]

# The entries the valid values name (references must name entries of the project:
# tests/support/referenced.py makes them).
NAMED_IMAGES = ("jjiwhsf23kdk", "p-1")
NAMED_VIDEO = "v-1"

_IMAGE_VALUE: dict[str, Any] = {
    "originalUrl": "https://livingdocs-images.imgix.net/2019/11/21/a209790e.jpeg",
    "url": "https://livingdocs-images.imgix.net/2019/11/21/a209790e.jpeg?auto=format",
    "mediaId": NAMED_IMAGES[0],
    "width": 2062,
    "height": 1547,
    "mimeType": "image/jpeg",
    "imageService": "imgix",
}

VALID_IMAGE_METADATA: dict[str, Any] = {
    "title": "Harbour at dawn",
    "caption": "Boats\nin the harbour",
    "source": "dpa",
    "note": "",
    "validDateRange": {"from": "2026-01-01T00:00:00.000Z", "to": "2027-01-01T00:00:00.000Z"},
    "googleVision": {"labels": ["sky", "boat"], "webEntities": ["Hamburg"]},
    "text": "x" * 150,
    "flag": True,
    "colour": "#8CBA51",
    "day": "2026-11-23",
    "moment": "2026-11-23T10:00:00.000Z",
    "document": {"$ref": "document", "reference": {"id": "12"}},
    "documents": {"$ref": "documents", "references": [{"id": "12"}, {"id": "13"}]},
    "choice": "b",
    "externalId": "ext-4711",
    "teaserImage": _IMAGE_VALUE
    | {
        "crops": [{"name": "desktop", "x": 0, "y": 0, "width": 2062, "height": 1160}],
        "focalPoint": {"x": 1031, "y": 700},
    },
    "count": 2,
    "invalid": False,
    "licenseProfile": {"handle": "editorial"},
    "myMediaHandle": "IMG-0001",
    "language": {"locale": "de", "label": "Deutsch"},
    "translations": {"locale": "de-CH", "label": "Schweizerdeutsch"},
    "namedCrops": {
        "crops": [
            {"name": "desktop", "x": 0, "y": 60, "width": 640, "height": 360, "isAutomatic": True},
            {"name": "mobile", "x": 200, "y": 0, "width": 240, "height": 320, "isAutomatic": False},
        ],
        "focalPoint": {"x": 320, "y": 240},
    },
    "numbers": [1, 2, 3],
    "author": {"$ref": "document", "reference": {"id": "author-1"}},
    "related": {"$ref": "documents", "references": [{"id": "a"}, {"id": "b"}, {"id": "c"}]},
    "tags": ["a", "c"],
    "checkedAt": "2026-11-23T10:00:00Z",
    "priority": 50,
}

VALID_VIDEO_METADATA: dict[str, Any] = {
    "title": "Fire",
    "posterImage": _IMAGE_VALUE
    | {
        "crops": [
            {"name": "16:9", "x": 0, "y": 0, "width": 1280, "height": 720, "isAutomatic": True}
        ]
    },
    # media-library-setup "Transcoding Service implementation"
    "transcoding": {
        "commands": [
            {
                "assetKey": "de2bc74bea-3",
                "commandId": "1980b544cfc2",
                "createdAt": "2021-03-01T12:34:56Z",
                "state": "inProgress",
                "progress": 42,
                "errorMessage": "Error: Unsupported video resolution.",
            }
        ],
        "transcodings": [
            {
                "assetKey": "de2bc74bea-3",
                "versions": [
                    {"format": "video/mp4", "url": "https://example.com/a.mp4", "size": "mobile"}
                ],
            }
        ],
    },
    "clip": {"$ref": "video", "reference": {"id": NAMED_VIDEO, "posterImageId": NAMED_IMAGES[1]}},
}

# One value per property that its rules refuse, and the start of the message that says so.
INVALID_IMAGE_METADATA: dict[str, tuple[Any, str]] = {
    "title": (5, "must be string"),
    "caption": (["a"], "must be string"),
    "source": (None, "must have required property 'source'"),
    "note": ({"text": "n"}, "must be string"),
    "validDateRange": ({"from": "yesterday"}, 'must match format "date-time"'),
    "googleVision": ({"labels": "sky"}, "must be array"),
    "text": ("x" * 120 + "\nmore", "must NOT contain line breaks"),
    "flag": ("true", "must be boolean"),
    "colour": ("green", "must match pattern"),
    "day": ("2026-02-30", 'must match format "date"'),
    "moment": ("2026-11-23T10:00:00", 'must match format "date-time"'),
    "document": ({"reference": {}}, "must have required property 'id'"),
    "documents": ({"references": [{"id": "1"}]}, "must NOT have fewer than 2 items"),
    "choice": ("d", "must be equal to one of the allowed values"),
    "externalId": (4711, "must be string"),
    "teaserImage": ({"width": -1}, "must be >= 0"),
    "count": (51, "must be <= 50"),
    "invalid": (0, "must be boolean"),
    "licenseProfile": ({}, "must have required property 'handle'"),
    "myMediaHandle": (["IMG"], "must be string"),
    "language": ({"locale": "DE"}, "must match pattern"),
    "translations": ({"locale": "de", "label": 1}, "must be string"),
    "namedCrops": (
        {"crops": [{"name": "desktop", "x": -5, "y": 0, "width": 10, "height": 10}]},
        "must be >= 0",
    ),
    "numbers": ([1, 2, 3, 4, 5, 6], "must NOT have more than 5 items"),
    "author": ({"$ref": "documents", "reference": {"id": "x"}}, "must be equal to constant"),
    "related": ({"references": [{"id": "a"}]}, "must NOT have fewer than 3 items"),
    "tags": (["a", "z"], "must be equal to one of the allowed values"),
    "checkedAt": ("now", 'must match format "date-time"'),
    "priority": (5.5, "must be integer"),
}

INVALID_VIDEO_METADATA: dict[str, tuple[Any, str]] = {
    "title": ("x" * 201, "must NOT have more than 200 characters"),
    "posterImage": ({"crops": [{"x": 0}]}, "must have required property 'y'"),
    "transcoding": (
        {"commands": [{"assetKey": "a", "commandId": "c", "createdAt": "t", "state": "over"}]},
        "must be equal to one of the allowed values",
    ),
    "clip": ({"$ref": "video", "reference": {"posterImageId": "p"}}, "must have required"),
}

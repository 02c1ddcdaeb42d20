"""The original API's metadata plugins on media types, as pure functions: the config keys each
type takes, how values of each type are judged (any JSON: issues, never an exception; what is
accepted can be stored), integers sent as whole floats, and the IPTC field names of
`exifExtraction` (the HTTP tests are in tests/compat/)."""

from __future__ import annotations

import io
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from pydantic import ValidationError

from medialib.library.config import MediaTypeConfig
from medialib.library.extraction import IPTC_FIELDS, embedded_keys, extracted_metadata
from medialib.library.metadata import (
    _PHRASES,
    PROPERTY_TYPES,
    MetadataProperty,
    MetadataSchema,
)
from medialib.library.projects import ExifMapping, MediaType
from medialib.media.probe.embedded import embedded_metadata
from tests.support import media
from tests.support.original_config import (
    IMAGE_METADATA,
    ORIGINAL_MEDIA_TYPES,
    VALID_IMAGE_METADATA,
    VALID_VIDEO_METADATA,
    VIDEO_METADATA,
)
from tests.support.strategies import json_values

PROPERTIES = [MetadataProperty.model_validate(p) for p in IMAGE_METADATA + VIDEO_METADATA]
IMAGE = MetadataSchema([MetadataProperty.model_validate(p) for p in IMAGE_METADATA])
VIDEO = MetadataSchema([MetadataProperty.model_validate(p) for p in VIDEO_METADATA])


def _property(kind: str, **config: Any) -> MetadataProperty:
    return MetadataProperty.model_validate({"handle": "p", "type": kind, "config": config})


def _items(*values: Any) -> dict[str, Any]:
    return {"type": "labelValuePair", "items": [{"label": str(v), "value": v} for v in values]}


def _refusal(prop: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as raised:
        MetadataProperty.model_validate(prop)
    return str(raised.value)


def test_the_docs_media_types_load_as_they_are() -> None:
    for media_type in ORIGINAL_MEDIA_TYPES:
        MediaTypeConfig.model_validate(media_type)


def test_every_type_loads_without_config() -> None:
    plain = {"li-enum": {"options": [{"value": "a"}]}}
    for kind in PROPERTY_TYPES:
        _property(kind, **plain.get(kind, {}))


@pytest.mark.parametrize(
    ("prop", "message"),
    [
        ({"type": "li-tree"}, "li-tree is a metadata plugin for documents only"),
        ({"type": "li-category"}, "li-category is a metadata plugin for documents only"),
        ({"type": "li-nonsense"}, "unknown metadata type 'li-nonsense': medialib takes li-"),
        ({"type": "li-text", "config": {"maxLenght": 3}}, "config.maxLenght\n  Extra inputs"),
        (
            {"type": "li-text", "config": {"maxValue": 3}},
            "config.maxValue does not apply to li-text (it does to li-integer, li-numeric, "
            "li-system-integer)",
        ),
        ({"type": "li-boolean", "config": {"dataProvider": {"dataSource": "x"}}}, "dataProvider"),
        ({"type": "li-image", "config": {"maxItems": 3}}, "config.maxItems does not apply"),
        ({"type": "li-text", "ui": {"colour": "red"}}, "ui.colour\n  Extra inputs"),
        ({"type": "li-text", "ui": {"config": {"redOnly": True}}}, "ui.config.redOnly"),
        ({"type": "li-text", "info": {"label": "x"}}, "info\n  Extra inputs"),
        ({"type": "li-enum"}, "li-enum needs config.options"),
        (
            {
                "type": "li-enum",
                "config": {"options": [{"value": "a"}], "dataProvider": {"dataSource": "x"}},
            },
            "not both",
        ),
        (
            {"type": "li-enum", "config": {"dataProvider": {"type": "labelValuePair"}}},
            "a dataProvider needs type: labelValuePair and a list of items",
        ),
        (
            {"type": "li-enum", "config": {"dataProvider": {"type": "other", "items": []}}},
            "Input should be 'labelValuePair'",
        ),
        (
            {"type": "li-integer", "config": {"dataProvider": _items("a")}},
            "config.dataProvider.items of li-integer must have int values",
        ),
        (
            {"type": "li-string-list", "config": {"dataProvider": _items(1)}},
            "config.dataProvider.items of li-string-list must have str values",
        ),
        ({"type": "li-integer", "config": {"min": 1, "minValue": 1}}, "give one"),
        ({"type": "li-integer", "config": {"minValue": 5, "maxValue": 1}}, "is above"),
        ({"type": "li-reference-list", "config": {"min": 1.5}}, "count references"),
        ({"type": "li-reference", "config": {"referenceType": "documents"}}, "'document'"),
        (
            {"type": "li-named-crops", "config": {"namedCrops": [{"name": "a"}, {"name": "a"}]}},
            "names a crop twice",
        ),
        ({"type": "li-document-reference", "config": {"documentType": "x"}}, "'article'"),
    ],
)
def test_a_broken_property_config_is_refused_by_name(prop: dict[str, Any], message: str) -> None:
    assert message in _refusal({"handle": "p"} | prop)


def test_what_the_config_says_is_kept_on_the_property() -> None:
    [text] = [p for p in PROPERTIES if p.handle == "text"]

    assert text.config.requiredErrorMessage == "Provide a value"
    assert text.config.recommendedMaxLength == 150
    assert text.config.hideFromForm is False
    assert text.config.index is True
    assert text.ui is not None
    assert text.ui.config is not None
    assert text.ui.config.placeholder == "bar"
    assert text.label == "foo"
    assert [c.value for c in text.config.choices] == ["a", "b", "c"]
    localized = MetadataProperty.model_validate(
        {"handle": "p", "type": "li-text", "ui": {"label": {"de": "Seite", "en": "Page"}}}
    )
    assert localized.label == "Page"


def test_the_docs_values_are_valid() -> None:
    assert IMAGE.validate(VALID_IMAGE_METADATA) == []
    assert VIDEO.validate(VALID_VIDEO_METADATA) == []
    assert IMAGE.stored(VALID_IMAGE_METADATA) == VALID_IMAGE_METADATA


@pytest.mark.parametrize("kind", ["li-integer", "li-system-integer"])
def test_an_integer_may_come_as_a_whole_float(kind: str) -> None:
    schema = MetadataSchema([_property(kind, minValue=1, maxValue=10)])

    assert schema.validate({"p": 5.0}) == []
    assert type(schema.stored({"p": 5.0})["p"]) is int
    assert type(schema.stored_value("p", 5.0)) is int
    assert [i.message() for i in schema.validate({"p": 5.5})] == [
        "The value of '/p' must be integer"
    ]
    assert [i.message() for i in schema.validate({"p": 11.0})] == [
        "The value of '/p' must be <= 10"
    ]
    unbounded = MetadataSchema([_property(kind)])
    assert [i.message() for i in unbounded.validate({"p": 1e20})] == [
        "The value of '/p' must be within 64 bits"
    ]
    assert [i.message() for i in unbounded.validate({"p": float("inf")})] == [
        "The value of '/p' must be integer"
    ]


def test_a_data_providers_list_limits_enums_and_string_lists_but_a_data_source_does_not() -> None:
    schema = MetadataSchema(
        [
            MetadataProperty(handle="e", type="li-enum", config={"dataProvider": _items("a", "b")}),
            MetadataProperty(
                handle="l", type="li-string-list", config={"dataProvider": _items("a", "b")}
            ),
            MetadataProperty(
                handle="s", type="li-enum", config={"dataProvider": {"dataSource": "tags"}}
            ),
            MetadataProperty(handle="t", type="li-text", config={"dataProvider": _items("a")}),
        ]
    )

    assert schema.validate({"e": "a", "l": ["b", "a"], "s": "anything", "t": "free"}) == []
    assert [i.message() for i in schema.validate({"e": "c", "l": ["a", "c"], "s": 1})] == [
        "The value of '/e' must be equal to one of the allowed values",
        "The value of '/l/1' must be equal to one of the allowed values",
        "The value of '/s' must be string",
    ]


def test_line_breaks_are_refused_only_where_allow_newlines_is_false() -> None:
    schema = MetadataSchema(
        [
            _property("li-text", allowNewlines=False).model_copy(update={"handle": "one"}),
            _property("li-text", allowNewlines=True).model_copy(update={"handle": "many"}),
        ]
    )

    assert schema.validate({"many": "a\nb"}) == []
    for text in ("a\nb", "a\rb", "a\u2028b"):
        assert [i.keyword for i in schema.validate({"one": text})] == ["newline"]


def test_named_crops_must_be_crops_of_the_config() -> None:
    schema = MetadataSchema(
        [_property("li-named-crops", namedCrops=[{"name": "wide"}, {"name": "tall"}])]
    )
    crop = {"name": "wide", "x": 0, "y": 0, "width": 16, "height": 9}

    assert schema.validate({"p": {"crops": [crop, crop | {"name": "tall"}]}}) == []
    assert [i.message() for i in schema.validate({"p": {"crops": [crop | {"name": "x"}]}})] == [
        "The value of '/p/crops/0/name' must be equal to one of the allowed values"
    ]
    assert [i.message() for i in schema.validate({"p": {"crops": [crop, crop]}})] == [
        "The value of '/p/crops/1/name' must NOT name the crop 'wide' twice"
    ]


def test_a_long_member_name_is_cut_short_in_the_message() -> None:
    [issue] = IMAGE.validate(
        VALID_IMAGE_METADATA | {"licenseProfile": {"handle": "a", "k" * 1000: 1}}
    )

    assert len(issue.message()) < 200


@given(st.sampled_from(PROPERTIES), json_values)
def test_any_json_gets_issues_never_an_exception(prop: MetadataProperty, value: Any) -> None:
    schema = MetadataSchema([prop])

    issues = schema.validate({prop.handle: value}, partial=True)

    for issue in issues:
        assert issue.keyword in _PHRASES
        assert issue.property == prop.handle
        assert issue.message("should")
        assert issue.message("must")
    if not issues:  # what is accepted can be stored, and is stored the same the second time
        stored = schema.stored({prop.handle: value})
        orjson.dumps(stored)
        assert schema.stored(stored) == stored
        assert schema.validate(stored, partial=True) == []


pixels = st.integers(0, 2**31)
sides = st.integers(1, 2**31)
crops = st.builds(
    lambda name, x, y, w, h, auto: {
        "name": name,
        "x": x,
        "y": y,
        "width": w,
        "height": h,
        "isAutomatic": auto,
    },
    st.sampled_from(["mobile", "desktop"]),
    pixels,
    pixels,
    sides,
    sides,
    st.booleans(),
)
ids = st.text(min_size=1, max_size=20).filter(lambda t: "\x00" not in t)


@given(
    st.lists(crops, max_size=2, unique_by=lambda c: c["name"]),
    st.none() | st.fixed_dictionaries({"x": pixels, "y": pixels}),
    st.lists(st.fixed_dictionaries({"id": ids}), min_size=2, max_size=4),
    st.lists(st.fixed_dictionaries({"id": ids}), min_size=3, max_size=6),
)
def test_structured_values_of_the_documented_shapes_are_accepted(
    named: list[dict[str, Any]],
    focal: dict[str, int] | None,
    references: list[dict[str, str]],
    related: list[dict[str, str]],
) -> None:
    crops_value: dict[str, Any] = {"crops": named}
    if focal is not None:
        crops_value["focalPoint"] = focal
    metadata = VALID_IMAGE_METADATA | {
        "namedCrops": crops_value,
        "documents": {"$ref": "documents", "references": references},
        "related": {"references": related},
    }

    assert IMAGE.validate(metadata) == []


# Every field name and alias of the original's "Exif Extraction" table, as its docs spell them.
IPTC_NAMES = """City (legacy)|City|City legacy|cityName|Copyright Notice|rights|Country (legacy)|
Country legacy|Country/Primary Location Name|Country Code (legacy)|Country Code|Creator|By-line|
Creator\u2019s Contact Info|Creator Contact Info|creatorContactInfo|CreatorContactInfo|
Creator\u2019s jobtitle|AuthorsPosition|By-line Title|Credit Line|Credit|Provider|Date Created|
DateCreated|Time Created|Description|Caption/Abstract|Caption|description|caption|
Description Writer|Writer/Editor|CaptionWriter|Headline|Instructions|Intellectual Genre|
Object Attribute Reference|Job Id|TransmissionReference|Original Transmission Reference|
Keywords|subject|Province or State|State|Province/State|Rights Usage Terms|UsageTerms|
Scene Code|Scene|Source|Subject Code|Subject Reference|Sublocation (legacy)|Location|
Sub-location|Title|Object Name|title|Additional Model Information|AddlModelInfo|
Artwork or Object in the Image|ArtworkOrObject|Code of Organisation Featured in the Image|
OrganisationInImageCode|Copyright Owner|CopyrightOwner|CV-Term About Image|AboutCvTerm|
Digital Image GUID|DigImageGUID|Digital Source Type|DigitalSourceType|
Embedded Encoded Rights Expression|EmbdEncRightsExpr|Event|Genre|Image Creator|ImageCreator|
Image Rating|Rating|Image Region|ImageRegion|Image Registry Entry|RegistryId|Image Supplier|
ImageSupplier|Image Supplier Image ID|ImageSupplierImageID|Licensor|
Linked Encoded Rights Expression|LinkedEncRightsExpr|Location created|LocationCreated|
Location Shown in the Image|LocationShown|Max Avail Height|MaxAvailHeight|Max Avail Width|
MaxAvailWidth|Minor Model Age Disclosure|MinorModelAgeDisclosure|Model Age|ModelAge|
Model Release Id|ModelReleaseID|Model Release Status|ModelReleaseStatus|
Name of Organisation Featured in the Image|OrganisationInImageName|Person Shown in the Image|
PersonInImage|Person Shown in the Image with Details|PersonInImageWDetails|PLUS Version|
Product Shown in the Image|ProductInImage|Property Release Id|PropertyReleaseID|
Property Release Status|PropertyReleaseStatus|Web Statement of Rights|WebStatement|
Artwork or Object in the Image structure""".replace("\n", "").split("|")


def test_every_iptc_name_of_the_docs_is_known() -> None:
    assert len(IPTC_NAMES) == 124
    for name in IPTC_NAMES:
        assert name in IPTC_FIELDS, name
        assert name.replace("\u2019", "'") in IPTC_FIELDS, name
    assert embedded_keys("By-line") == ("xmp:dc:creator", "iptc:Byline")
    assert embedded_keys("xmp:dc:title") == ("xmp:dc:title",)  # medialib's own names stay


def test_iptc_names_read_xmp_first_and_iim_second() -> None:
    data = media.with_iim(
        media.jpeg_with_xmp(),
        {5: b"IIM title", 80: b"Jane Doe", 103: b"job-42", 55: b"20240102", 110: b"IIM credit"},
    )
    embedded = embedded_metadata(Image.open(io.BytesIO(data)))
    media_type = MediaType(
        handle="photo",
        kind="mediaImage",
        schema=MetadataSchema(
            [
                MetadataProperty(handle="title", type="li-text"),
                MetadataProperty(handle="credit", type="li-text"),
                MetadataProperty(handle="creator", type="li-text"),
                MetadataProperty(handle="job", type="li-text"),
                MetadataProperty(handle="shotOn", type="li-date"),
                MetadataProperty(handle="keywords", type="li-string-list"),
            ]
        ),
        exif_mappings=(
            ExifMapping("Object Name", "title"),
            ExifMapping("Credit", "credit"),
            ExifMapping("By-line", "creator"),
            ExifMapping("Job Id", "job"),
            ExifMapping("Date Created", "shotOn"),
            ExifMapping("subject", "keywords"),
        ),
    )

    assert extracted_metadata(embedded, media_type) == {
        "title": "Harbour at dawn",  # XMP's dc:title wins over IIM's Object Name
        "credit": "Agency X",
        "creator": "Jane Doe",  # IIM only
        "job": "job-42",
        "shotOn": "2024-01-02",
        "keywords": ["harbour", "dawn"],
    }

"""A file's own metadata (EXIF, IPTC, XMP) mapped onto a media type's properties.

Each `exifExtraction` mapping names a field of the file and a metadata property; the value is
turned into the property's type, and kept only if the property's rules accept it. The request's
metadata always wins over the file's (the caller merges them that way).

A field is named as the original API names it, by the IPTC Photo Metadata standard's name or one
of its aliases (`Title`, `Object Name`, `By-line`, …: `IPTC_FIELDS`), which reads its XMP
property first and its IIM dataset second; or as medialib names what it reads (an EXIF tag
name, `iptc:<name>`, `xmp:<prefix>:<name>`: media/probe/embedded.py).
"""

from __future__ import annotations

import re
from typing import Any

from medialib.library.projects import MediaType
from medialib.media.probe.embedded import exif_date
from medialib.parsing import whole_number

_TEXT_TYPES = frozenset(
    {"li-text", "li-string", "li-enum", "li-external-id", "li-media-handle", "li-color"}
)
_IIM_DATE = re.compile(r"[0-9]{8}")
_OFFSET_OF = {
    "DateTimeOriginal": "OffsetTimeOriginal",
    "DateTimeDigitized": "OffsetTimeDigitized",
    "DateTime": "OffsetTime",
}


# The IPTC Photo Metadata fields the original API's `exifExtraction` names, with its aliases,
# and the keys of media/probe/embedded.py that hold them: XMP first, then IIM. (XMP keys are
# the property's name without its namespace, except the few embedded.py gives a prefix.)
_FIELDS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("City (legacy)", "City", "City legacy", "cityName"), ("xmp:photoshop:City", "iptc:City")),
    (("Copyright Notice", "rights"), ("xmp:dc:rights", "iptc:CopyrightNotice")),
    (
        ("Country (legacy)", "Country legacy", "Country/Primary Location Name"),
        ("xmp:photoshop:Country", "iptc:Country"),
    ),
    (("Country Code (legacy)", "Country Code"), ("xmp:CountryCode", "iptc:CountryCode")),
    (("Creator", "By-line"), ("xmp:dc:creator", "iptc:Byline")),
    (
        (
            "Creator\u2019s Contact Info",
            "Creator's Contact Info",
            "Creator Contact Info",
            "creatorContactInfo",
            "CreatorContactInfo",
        ),
        ("xmp:CreatorContactInfo",),
    ),
    (
        ("Creator\u2019s jobtitle", "Creator's jobtitle", "AuthorsPosition", "By-line Title"),
        ("xmp:AuthorsPosition", "iptc:BylineTitle"),
    ),
    (("Credit Line", "Credit", "Provider"), ("xmp:photoshop:Credit", "iptc:Credit")),
    (("Date Created", "DateCreated"), ("xmp:DateCreated", "iptc:DateCreated")),
    (("Time Created",), ("iptc:TimeCreated",)),
    (
        ("Description", "Caption/Abstract", "Caption", "description", "caption"),
        ("xmp:dc:description", "iptc:Caption"),
    ),
    (
        ("Description Writer", "Writer/Editor", "CaptionWriter"),
        ("xmp:CaptionWriter", "iptc:WriterEditor"),
    ),
    (("Headline",), ("xmp:photoshop:Headline", "iptc:Headline")),
    (("Instructions",), ("xmp:Instructions", "iptc:SpecialInstructions")),
    (
        ("Intellectual Genre", "Object Attribute Reference"),
        ("xmp:IntellectualGenre", "iptc:ObjectAttributeReference"),
    ),
    (
        ("Job Id", "TransmissionReference", "Original Transmission Reference"),
        ("xmp:TransmissionReference", "iptc:OriginalTransmissionReference"),
    ),
    (("Keywords", "subject"), ("xmp:dc:subject", "iptc:Keywords")),
    (("Province or State", "State", "Province/State"), ("xmp:State", "iptc:ProvinceState")),
    (("Rights Usage Terms", "UsageTerms"), ("xmp:UsageTerms",)),
    (("Scene Code", "Scene"), ("xmp:Scene",)),
    (("Source",), ("xmp:photoshop:Source", "iptc:Source")),
    (("Subject Code", "Subject Reference"), ("xmp:SubjectCode", "iptc:SubjectReference")),
    (("Sublocation (legacy)", "Location", "Sub-location"), ("xmp:Location", "iptc:Sublocation")),
    (("Title", "Object Name", "title"), ("xmp:dc:title", "iptc:ObjectName")),
    (("Additional Model Information", "AddlModelInfo"), ("xmp:AddlModelInfo",)),
    (
        (
            "Artwork or Object in the Image",
            "Artwork or Object in the Image structure",
            "ArtworkOrObject",
        ),
        ("xmp:ArtworkOrObject",),
    ),
    (
        ("Code of Organisation Featured in the Image", "OrganisationInImageCode"),
        ("xmp:OrganisationInImageCode",),
    ),
    (("Copyright Owner", "CopyrightOwner"), ("xmp:CopyrightOwner",)),
    (("CV-Term About Image", "AboutCvTerm"), ("xmp:AboutCvTerm",)),
    (("Digital Image GUID", "DigImageGUID"), ("xmp:DigImageGUID",)),
    (("Digital Source Type", "DigitalSourceType"), ("xmp:DigitalSourceType",)),
    (
        ("Embedded Encoded Rights Expression", "EmbdEncRightsExpr"),
        ("xmp:EmbdEncRightsExpr",),
    ),
    (("Event",), ("xmp:Event",)),
    (("Genre",), ("xmp:Genre",)),
    (("Image Creator", "ImageCreator"), ("xmp:ImageCreator",)),
    (("Image Rating", "Rating"), ("xmp:Rating",)),
    (("Image Region", "ImageRegion"), ("xmp:ImageRegion",)),
    (("Image Registry Entry", "RegistryId"), ("xmp:RegistryId",)),
    (("Image Supplier", "ImageSupplier"), ("xmp:ImageSupplier",)),
    (("Image Supplier Image ID", "ImageSupplierImageID"), ("xmp:ImageSupplierImageID",)),
    (("Licensor",), ("xmp:Licensor",)),
    (
        ("Linked Encoded Rights Expression", "LinkedEncRightsExpr"),
        ("xmp:LinkedEncRightsExpr",),
    ),
    (("Location created", "LocationCreated"), ("xmp:LocationCreated",)),
    (("Location Shown in the Image", "LocationShown"), ("xmp:LocationShown",)),
    (("Max Avail Height", "MaxAvailHeight"), ("xmp:MaxAvailHeight",)),
    (("Max Avail Width", "MaxAvailWidth"), ("xmp:MaxAvailWidth",)),
    (
        ("Minor Model Age Disclosure", "MinorModelAgeDisclosure"),
        ("xmp:MinorModelAgeDisclosure",),
    ),
    (("Model Age", "ModelAge"), ("xmp:ModelAge",)),
    (("Model Release Id", "ModelReleaseID"), ("xmp:ModelReleaseID",)),
    (("Model Release Status", "ModelReleaseStatus"), ("xmp:ModelReleaseStatus",)),
    (
        ("Name of Organisation Featured in the Image", "OrganisationInImageName"),
        ("xmp:OrganisationInImageName",),
    ),
    (("Person Shown in the Image", "PersonInImage"), ("xmp:PersonInImage",)),
    (
        ("Person Shown in the Image with Details", "PersonInImageWDetails"),
        ("xmp:PersonInImageWDetails",),
    ),
    (("PLUS Version",), ("xmp:Version",)),
    (("Product Shown in the Image", "ProductInImage"), ("xmp:ProductInImage",)),
    (("Property Release Id", "PropertyReleaseID"), ("xmp:PropertyReleaseID",)),
    (("Property Release Status", "PropertyReleaseStatus"), ("xmp:PropertyReleaseStatus",)),
    (("Web Statement of Rights", "WebStatement"), ("xmp:WebStatement",)),
)
IPTC_FIELDS: dict[str, tuple[str, ...]] = {name: keys for names, keys in _FIELDS for name in names}


def embedded_keys(field: str) -> tuple[str, ...]:
    """The keys of a file's embedded metadata a mapping's `field` reads, the first found wins:
    an IPTC name's XMP and IIM keys, or medialib's own name as it is."""
    return IPTC_FIELDS.get(field, (field,))


def extracted_metadata(embedded: dict[str, Any], media_type: MediaType) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for mapping in media_type.exif_mappings:
        if mapping.property in found:
            continue
        key, value = next(
            ((k, embedded[k]) for k in embedded_keys(mapping.field) if embedded.get(k)),
            (mapping.field, None),
        )
        if value is None:
            continue
        prop = media_type.schema.properties[mapping.property]
        converted = _convert(value, prop.type, embedded.get(_OFFSET_OF.get(key, "")))
        if converted is None:
            continue
        if not media_type.schema.validate_property(prop.handle, converted):
            found[prop.handle] = converted
    return found


def _convert(value: Any, property_type: str, offset: Any) -> Any:
    texts = value if isinstance(value, list) else [value]
    texts = [str(t).strip() for t in texts if str(t).strip()]
    if not texts:
        return None
    if property_type == "li-string-list":
        return texts
    text = ", ".join(texts)
    if property_type in _TEXT_TYPES:
        return text
    if property_type == "li-date":
        if _IIM_DATE.fullmatch(text):  # IIM's CCYYMMDD
            return f"{text[:4]}-{text[4:6]}-{text[6:]}"
        return (exif_date(text) or text)[:10]
    if property_type in ("li-datetime", "li-system-datetime"):
        local = exif_date(text)
        if local and isinstance(offset, str) and offset.strip():
            return local + offset.strip()
        return text if "T" in text else None  # a date and time without a zone says too little
    if property_type in ("li-integer", "li-system-integer"):
        return _integer(text)
    if property_type == "li-numeric":
        try:
            return float(text)
        except ValueError:
            return None
    return None


def _integer(text: str) -> int | None:
    """A whole number in ASCII digits, with an optional minus, that JSON stores as a 64-bit
    integer (at most 18 digits): a file's text is anybody's."""
    magnitude = whole_number(text.removeprefix("-"), max_digits=18)
    if magnitude is None:
        return None
    return -magnitude if text.startswith("-") else magnitude

"""The config file: a broken one stops the start with one message that says where."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from medialib.errors import ConfigError
from medialib.library.config import load_config
from medialib.settings import Settings
from tests.support.stack import stack_config


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "medialib.yaml"
    path.write_text(text)
    return path


def test_without_a_file_there_is_the_demo_project() -> None:
    config = load_config(None)

    assert list(config.projects) == ["demo"]
    demo = config.projects["demo"]
    assert {h: m.kind for h, m in demo.media_types.items()} == {
        "image": "mediaImage",
        "video": "mediaVideo",
        "file": "mediaFile",
    }
    assert list(demo.media_types["image"].schema.properties) == [
        "title",
        "caption",
        "source",
        "description",
    ]


def test_the_test_config_loads(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, yaml.safe_dump(stack_config())))

    assert {"demo", "other", "typed"} <= set(config.projects)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("projects: [", "not valid YAML (line 1, column 12)"),
        ("{}", "projects: Field required"),
        (
            "projects: [{handle: p, mediaTypes: [{handle: image, type: mediaImage, "
            "metadata: [{handle: t, type: li-bogus}]}]}]",
            "projects[0].mediaTypes[0].metadata[0].type: Value error, unknown metadata type "
            "'li-bogus': medialib takes li-boolean, li-color,",
        ),
        (
            "projects: [{handle: p, mediaTypes: [{handle: image, type: mediaPicture}]}]",
            "projects[0].mediaTypes[0].type: Input should be 'mediaImage'",
        ),
        (
            "projects: [{handle: p, mediaTypes: [{handle: i, type: mediaImage, "
            "metadata: [{handle: t, type: li-text, config: {maxLenght: 3}}]}]}]",
            "projects[0].mediaTypes[0].metadata[0].config.maxLenght: Extra inputs are not",
        ),
        (
            "projects: [{handle: p, mediaTypes: [{handle: i, type: mediaImage}]}, "
            "{handle: p, mediaTypes: [{handle: i, type: mediaImage}]}]",
            "project 'p' is defined twice",
        ),
        (
            "projects: [{handle: p, mediaTypes: [{handle: i, type: mediaImage, "
            "exifExtraction: {mappings: [{field: Artist, metadataPropertyName: author}]}}]}]",
            "exifExtraction maps to 'author'",
        ),
        # The original's keys are taken where its docs put them, and nowhere else.
        (
            "projects: [{handle: p, mediaTypes: [{handle: i, type: mediaImage, "
            "info: {label: Images, colour: red}}]}]",
            "projects[0].mediaTypes[0].info.colour: Extra inputs are not permitted",
        ),
        (
            "projects: [{handle: p, mediaTypes: [{handle: i, type: mediaImage, "
            "metadata: [{handle: t, type: li-text, ui: {lable: Title}}]}]}]",
            "projects[0].mediaTypes[0].metadata[0].ui.lable: Extra inputs are not permitted",
        ),
        (
            "projects: [{handle: p, mediaTypes: [{handle: i, type: mediaImage, "
            "metadata: [{handle: t, type: li-text, config: {minValue: 1}}]}]}]",
            "projects[0].mediaTypes[0].metadata[0]: Value error, config.minValue does not "
            "apply to li-text (it does to li-integer, li-numeric, li-system-integer)",
        ),
        (
            "projects: [{handle: p, mediaTypes: [{handle: i, type: mediaImage, "
            "metadata: [{handle: t, type: li-tree}]}]}]",
            "projects[0].mediaTypes[0].metadata[0].type: Value error, li-tree is a metadata "
            "plugin for documents only",
        ),
        (
            "projects: [{handle: p, mediaTypes: [{handle: i, type: mediaImage, "
            "metadata: [{handle: t, type: li-enum, config: {dataProvider: {type: "
            "labelValuePair}}}]}]}]",
            "projects[0].mediaTypes[0].metadata[0].config.dataProvider: Value error, a "
            "dataProvider needs type: labelValuePair and a list of items",
        ),
        (
            "projects: [{handle: p, mediaTypes: [{handle: i, type: mediaImage}], "
            "usagePurposes: [{handle: web, label: Web}, {handle: web, label: Web 2}]}]",
            "usage purpose 'web' is defined twice",
        ),
        (
            "projects: [{handle: p, mediaTypes: [{handle: i, type: mediaImage}], "
            "usagePurposes: [{label: Web}]}]",
            "projects[0].usagePurposes[0].handle: Field required",
        ),
        (
            "projects: [{handle: p, mediaTypes: [{handle: i, type: mediaImage}], "
            "usagePurposes: [{handle: web, label: Web, contentType: [regular]}]}]",
            "projects[0].usagePurposes[0]: Value error, 'contentType' (usage recorded when",
        ),
        (
            "projects: [{handle: p, mediaTypes: [{handle: i, type: mediaImage}], "
            "usagePurposes: [{handle: web, label: Web}], "
            "mediaCenter: {usagePurposes: [{handle: print, label: Print}]}}]",
            "usagePurposes and mediaCenter.usagePurposes are both set",
        ),
        (
            "projects: [{handle: p, mediaTypes: [{handle: i, type: mediaImage}], "
            "mediaCenter: {licenseProfiles: {enabled: true}}}]",
            "projects[0].mediaCenter.licenseProfiles: Extra inputs are not permitted",
        ),
        (
            "projects: [{handle: p, mediaTypes: [{handle: i, type: mediaImage}], "
            "usagePurposes: [{handle: print, label: Print, "
            "paramsSchema: [{handle: page, type: li-bogus}]}]}]",
            "projects[0].usagePurposes[0].paramsSchema[0].type: "
            "Value error, unknown metadata type 'li-bogus'",
        ),
    ],
)
def test_a_broken_file_names_the_file_the_path_and_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)

    with pytest.raises(ConfigError) as raised:
        load_config(path)

    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("threshold", "problem"),
    [
        ("12", "less than or equal to 11"),
        ("-1", "greater than or equal to 0"),
        ("'10'", "a valid integer"),
        ("10.5", "a valid integer"),
        ("true", "a valid integer"),
        ("null", "a valid integer"),
    ],
)
def test_a_near_duplicate_threshold_outside_0_to_11_is_refused(
    tmp_path: Path, threshold: str, problem: str
) -> None:
    path = _write(
        tmp_path,
        "projects: [{handle: p, mediaTypes: [{handle: i, type: mediaImage}], "
        f"nearDuplicates: {{threshold: {threshold}}}}}]",
    )

    with pytest.raises(ConfigError) as raised:
        load_config(path)

    assert f"projects[0].nearDuplicates.threshold: Input should be {problem}" in str(raised.value)


def test_the_near_duplicate_threshold_is_10_unless_set(tmp_path: Path) -> None:
    types = "mediaTypes: [{handle: i, type: mediaImage}]"
    path = _write(
        tmp_path,
        f"projects: [{{handle: p, {types}}}, "
        f"{{handle: q, {types}, nearDuplicates: {{threshold: 3}}}}]",
    )

    projects = load_config(path).projects

    assert projects["p"].near_duplicate_threshold == 10
    assert projects["q"].near_duplicate_threshold == 3


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path / "missing.yaml")


def test_renditions_are_served_by_medialib_even_when_a_bucket_serves_originals(
    tmp_path: Path,
) -> None:
    local = Settings(home=tmp_path, public_url="https://cdn.example/media")
    assert local.rendition_base_url == "https://cdn.example/media"
    bucket = Settings(home=tmp_path, storage_url="s3://pics/media", port=8123)
    assert bucket.media_base_url == "https://pics.s3.amazonaws.com/media"
    assert bucket.rendition_base_url == "http://127.0.0.1:8123/media"
    chosen = Settings(home=tmp_path, storage_url="s3://pics", rendition_url="https://img.example/")
    assert chosen.rendition_base_url == "https://img.example"


def test_the_image_services_secure_token_is_read(tmp_path: Path) -> None:
    path = tmp_path / "medialib.yaml"
    config = {
        "projects": [{"handle": "p", "mediaTypes": [{"handle": "i", "type": "mediaImage"}]}],
        "imageService": {"medialib": {"secureToken": "a-token-of-enough-length"}},
    }
    path.write_text(yaml.safe_dump(config))
    assert load_config(path).rendition_token == "a-token-of-enough-length"
    config["imageService"] = {"medialib": {"secureToken": "short"}}
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match="secureToken"):
        load_config(path)


@pytest.mark.parametrize("where", ["usagePurposes", "mediaCenter"])
def test_usage_purposes_are_read_from_either_place(tmp_path: Path, where: str) -> None:
    purposes = [
        {"handle": "web", "label": {"en": "Web"}, "internal": True},
        {
            "handle": "print",
            "label": "Print",
            "paramsSchema": [{"handle": "page", "type": "li-integer"}],
        },
    ]
    project: dict[str, object] = {
        "handle": "p",
        "mediaTypes": [{"handle": "i", "type": "mediaImage"}],
    }
    project |= (
        {"usagePurposes": purposes}
        if where == "usagePurposes"
        else {"mediaCenter": {"usagePurposes": purposes}}
    )

    config = load_config(_write(tmp_path, yaml.safe_dump({"projects": [project]})))

    found = config.projects["p"].usage_purposes
    assert found is not None
    assert list(found) == ["web", "print"]
    assert found["web"].internal
    assert found["web"].params is None
    schema = found["print"].params
    assert schema is not None
    assert schema.validate({"page": 3}) == []
    assert schema.validate({"page": "three"})


def test_without_purposes_or_with_an_empty_list_any_purpose_is_taken(tmp_path: Path) -> None:
    projects = [
        {"handle": "none", "mediaTypes": [{"handle": "i", "type": "mediaImage"}]},
        {
            "handle": "empty",
            "mediaTypes": [{"handle": "i", "type": "mediaImage"}],
            "usagePurposes": [],
        },
    ]

    config = load_config(_write(tmp_path, yaml.safe_dump({"projects": projects})))

    assert config.projects["none"].usage_purposes is None
    assert config.projects["empty"].usage_purposes is None

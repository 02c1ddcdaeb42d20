"""Reading manifests: typed CSV columns, JSON Lines, and each row's problems by line number."""

from __future__ import annotations

from pathlib import Path

import pytest

from medialib.client.manifest import ManifestError, read_manifest


def test_csv_cells_are_typed_by_their_column(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "url,id,fileName,metadata.title,metadata.rank:integer,metadata.score:number,"
        "metadata.public:boolean,metadata.tags:json\n"
        'https://a.example/1.jpg,x1,1.jpg,Dawn,3,2.5,TRUE,"[""sea"", ""boat""]"\n'
        "https://a.example/2.jpg,x2,2.jpg,,,,,\n"
    )
    read = read_manifest(manifest)
    assert read.problems == []
    assert [row.item["metadata"] for row in read.rows] == [
        {"title": "Dawn", "rank": 3, "score": 2.5, "public": True, "tags": ["sea", "boat"]},
        {},
    ]
    assert [row.line for row in read.rows] == [2, 3]


def test_bad_cells_are_named_with_their_line(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "url,id,fileName,metadata.rank:integer,metadata.public:boolean\n"
        "https://a.example/1.jpg,x1,1.jpg,three,\n"
        "https://a.example/2.jpg,x2,2.jpg,,maybe\n"
        "https://a.example/3.jpg,,3.jpg,,\n"
        "https://a.example/4.jpg,x4,4.jpg\n"
    )
    problems = [str(p) for p in read_manifest(manifest).problems]
    assert problems[0].startswith("line 2: metadata.rank:integer: 'three' is not integer")
    assert problems[1].startswith("line 3: metadata.public:boolean: 'maybe' is not boolean")
    assert problems[2:] == ["line 4: id is missing", "line 5: 3 cells for 5 columns"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.txt", "", "a manifest is a .csv or a .jsonl file"),
        ("m.csv", "url,id\n", "the header has no column fileName"),
        ("m.csv", "url,id,fileName,title\n", "column 'title'"),
        ("m.csv", "url,id,fileName,metadata.x:date\n", "a type is one of"),
    ],
)
def test_a_manifest_that_cannot_be_read_says_why(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    manifest = tmp_path / name
    manifest.write_text(text)
    with pytest.raises(ManifestError, match=message):
        read_manifest(manifest)


def test_plain_columns_take_their_property_types(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "url,id,fileName,mediaType,metadata.rank,metadata.rank2:text,metadata.title\n"
        "https://a.example/1.jpg,x1,1.jpg,,3,3,Dawn\n"
        "https://a.example/2.jpg,x2,2.jpg,other,3,3,Dusk\n"
    )
    types = {"image": {"rank": "li-integer", "rank2": "li-integer"}, "other": {}}
    rows = read_manifest(manifest, media_type="image", types=types).rows
    assert [row.item["metadata"] for row in rows] == [
        {"rank": 3, "rank2": "3", "title": "Dawn"},
        {"rank": "3", "rank2": "3", "title": "Dusk"},
    ]

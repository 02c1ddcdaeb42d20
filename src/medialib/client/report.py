"""The report: one row per manifest row with what became of it, as CSV or JSON Lines."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from medialib.client.state import Result

COLUMNS = ("line", "id", "mediaId", "state", "action", "reasonCode", "reason", "duplicateOf")


def as_record(result: Result) -> dict[str, object]:
    return {
        "line": result.line,
        "id": result.external_id,
        "mediaId": result.media_id,
        "state": result.state or "not sent",
        "action": result.action,
        "reasonCode": result.reason_code,
        "reason": result.reason,
        "duplicateOf": result.duplicate_of,
    }


def write_report(path: Path, results: list[Result]) -> None:
    records = [as_record(result) for result in results]
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        with path.open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record) + "\n")
        return
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(record.values() for record in records)  # csv writes None as ""

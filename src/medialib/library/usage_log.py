"""An entry's usage log: where and when it was (or is to be) published, as callers report it.

Its entries are changed by PATCH operations (`addUsageLogEntry`, `updateUsageLogEntry`,
`removeUsageLogEntry`) in the patch's transaction, and read by `GET …/usageLog`. medialib
publishes no documents, so the documents a usage log entry names (`documentId`) are all it
knows of the documents that use an entry: `GET …/incomingDocumentReferences` answers from them.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import secrets
import string
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import orjson
import pydantic
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from medialib.db.engine import Database, Tx
from medialib.db.tables import media_entries, usage_log_entries, utcnow
from medialib.errors import BadRequest, Conflict, field_problems
from medialib.library import page_cursors
from medialib.library.models import PatchIn
from medialib.library.projects import Project
from medialib.library.repository import is_valid_entry_id, not_found
from medialib.parsing import in_utc

ADD = "addUsageLogEntry"
UPDATE = "updateUsageLogEntry"
REMOVE = "removeUsageLogEntry"
OPERATIONS = frozenset({ADD, UPDATE, REMOVE})

MAX_URL_LENGTH = 2048
MAX_PARAMS_BYTES = 10_000
MAX_PURPOSE_LENGTH = 100
MAX_REFERENCES_PAGE = 100
_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_ID_ALPHABET = string.ascii_letters + string.digits
# The integers a JavaScript client holds exactly: the original's document ids are such numbers.
DocumentNumber = Annotated[StrictInt, Field(ge=1, le=2**53 - 1)]


class UsageState(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"


class UsageValueIn(BaseModel):
    """The `value` of addUsageLogEntry and updateUsageLogEntry. `id` and `reportingDate` are
    the server's: a value read from `GET …/usageLog` and sent back may carry them, and they are
    ignored."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["pending", "confirmed"] | None = None
    purpose: Annotated[StrictStr, Field(min_length=1, max_length=MAX_PURPOSE_LENGTH)] | None = None
    publicationDate: Annotated[StrictStr, Field(max_length=64)] | None = None
    url: Annotated[StrictStr, Field(min_length=1, max_length=MAX_URL_LENGTH)] | None = None
    params: dict[str, Any] | None = None
    # medialib's own: the document and publication of the original's entries recorded on
    # publish, which a client moving a usage log over may carry along.
    documentId: DocumentNumber | None = None
    publicationId: DocumentNumber | None = None
    id: StrictStr | None = None
    reportingDate: StrictStr | None = None


@dataclass(frozen=True)
class UsageLogEntry:
    id: str
    state: str
    purpose: str
    url: str | None
    params: dict[str, Any]
    document_id: int | None
    publication_id: int | None
    reporting_date: dt.datetime
    publication_date: dt.datetime | None


# --- Checking a patch before the entry is read -----------------------------------------------


def patch_problems(at: str, patch: PatchIn) -> dict[str, str]:
    """What is wrong with a usage log patch (`at` is `patches.N`), judged on its own."""
    op = patch.operation
    problems: dict[str, str] = {}
    if op in (UPDATE, REMOVE):
        if patch.usageLogEntryId is None:
            problems[f"{at}.usageLogEntryId"] = f"required for {op}"
        elif not _ID.fullmatch(patch.usageLogEntryId):
            problems[f"{at}.usageLogEntryId"] = "must be a usage log entry id"
    elif patch.usageLogEntryId is not None:
        problems[f"{at}.usageLogEntryId"] = (
            "only updateUsageLogEntry and removeUsageLogEntry take a usageLogEntryId"
        )
    if patch.oldValue is not None and op != UPDATE:
        problems[f"{at}.oldValue"] = "only updateUsageLogEntry takes an oldValue"
    if op not in (ADD, UPDATE):
        return problems
    if not isinstance(patch.value, dict):
        return problems | {f"{at}.value": f"{op} needs the usage log entry as value"}
    value, found = _value(patch.value, f"{at}.value")
    problems |= found
    if value is None:
        return problems
    if op == ADD and value.purpose is None:
        problems[f"{at}.value.purpose"] = "required for addUsageLogEntry"
    if op == UPDATE and value.state is None:
        problems[f"{at}.value.state"] = "required for updateUsageLogEntry"
    if op == ADD and value.state == "confirmed" and value.publicationDate is None:
        problems[f"{at}.value.publicationDate"] = "required when the state is confirmed"
    return problems


def _value(raw: dict[str, Any], at: str) -> tuple[UsageValueIn | None, dict[str, str]]:
    try:
        value = UsageValueIn.model_validate(raw)
    except pydantic.ValidationError as exc:
        return None, field_problems(exc, prefix=at.split("."))
    problems: dict[str, str] = {}
    if value.publicationDate is not None and _time(value.publicationDate) is None:
        problems[f"{at}.publicationDate"] = "must be a date and time (ISO 8601)"
    if value.params is not None and len(orjson.dumps(value.params)) > MAX_PARAMS_BYTES:
        problems[f"{at}.params"] = f"must NOT be larger than {MAX_PARAMS_BYTES} bytes as JSON"
    return value, problems


def _time(text: str) -> dt.datetime | None:
    """An ISO 8601 time in UTC to the millisecond (what the log says back), or None."""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    found = in_utc(when)
    return None if found is None else _to_millisecond(found)


def _to_millisecond(when: dt.datetime) -> dt.datetime:
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


# --- Applying a patch in its transaction -------------------------------------------------------


def apply(tx: Tx, project: Project, entry_id: str, at: str, patch: PatchIn) -> None:
    """One usage log operation on the entry `entry_id` (whose row the caller holds locked);
    a BadRequest or Conflict rolls back the patch's transaction."""
    if patch.operation == ADD:
        value, _ = _value(patch.value, f"{at}.value")
        assert value is not None
        assert value.purpose is not None
        state = value.state or UsageState.PENDING
        _check_purpose(project, value.purpose, value.params or {}, at)
        tx.execute(
            usage_log_entries.insert().values(
                project=project.handle,
                entry_id=entry_id,
                id=new_usage_log_entry_id(),
                state=state,
                purpose=value.purpose,
                url=value.url,
                params=value.params or {},
                document_id=value.documentId,
                publication_id=value.publicationId,
                reporting_date=_to_millisecond(utcnow()),
                publication_date=_time(value.publicationDate) if value.publicationDate else None,
            )
        )
        return
    assert patch.usageLogEntryId is not None
    where = sa.and_(
        usage_log_entries.c.project == project.handle,
        usage_log_entries.c.entry_id == entry_id,
        usage_log_entries.c.id == patch.usageLogEntryId,
    )
    row = tx.execute(sa.select(usage_log_entries).where(where)).first()
    if row is None:
        shown = patch.usageLogEntryId
        raise BadRequest(
            details={f"{at}.usageLogEntryId": f"no usage log entry '{shown}' on this entry"}
        )
    if patch.operation == REMOVE:
        tx.execute(usage_log_entries.delete().where(where))
        return
    stored = _from_row(row)
    if patch.oldValue is not None:
        differs = _first_difference(stored, patch.oldValue)
        if differs is not None:
            message = (
                f"Usage log entry '{stored.id}' does not match oldValue ({differs}): "
                "it changed since it was read"
            )
            raise Conflict(message, details={"name": "Conflict", "message": message})
    value, _ = _value(patch.value, f"{at}.value")
    assert value is not None
    assert value.state is not None
    sent = value.model_fields_set
    changes: dict[str, Any] = {"state": value.state}
    purpose = value.purpose if value.purpose is not None else stored.purpose
    params = value.params if value.params is not None else stored.params
    changes |= {"purpose": purpose, "params": params}
    for name, column, given in (
        ("url", "url", value.url),
        ("documentId", "document_id", value.documentId),
        ("publicationId", "publication_id", value.publicationId),
    ):
        if name in sent:  # null removes it
            changes[column] = given
    if "publicationDate" in sent:
        changes["publication_date"] = (
            _time(value.publicationDate) if value.publicationDate else None
        )
    publication_date = changes.get("publication_date", stored.publication_date)
    if value.state == "confirmed" and publication_date is None:
        raise BadRequest(
            details={f"{at}.value.publicationDate": "required when the state is confirmed"}
        )
    _check_purpose(project, purpose, params, at)
    tx.execute(usage_log_entries.update().where(where).values(**changes))


def _check_purpose(project: Project, purpose: str, params: dict[str, Any], at: str) -> None:
    """The purpose must be one the project configures (when it configures any), and the params
    must be what its `paramsSchema` says (when it has one)."""
    purposes = project.usage_purposes
    if purposes is None:
        return
    found = purposes.get(purpose)
    if found is None:
        known = ", ".join(sorted(purposes))
        raise BadRequest(details={f"{at}.value.purpose": f"must be one of: {known}"})
    if found.params is not None:
        issues = found.params.validate(params)
        if issues:
            raise BadRequest(details={f"{at}.value.params": issues[0].message()})


def _first_difference(stored: UsageLogEntry, expected: dict[str, Any]) -> str | None:
    """The first key of `expected` (an oldValue) whose value the stored entry does not have."""
    said: dict[str, Any] = {
        "id": stored.id,
        "state": stored.state,
        "purpose": stored.purpose,
        "url": stored.url,
        "params": stored.params,
        "documentId": stored.document_id,
        "publicationId": stored.publication_id,
    }
    times = {"reportingDate": stored.reporting_date, "publicationDate": stored.publication_date}
    for key, value in expected.items():
        if key in times:
            at = _time(value) if isinstance(value, str) else None
            if at != times[key]:
                return key
        elif key not in said or said[key] != value or type(said[key]) is not type(value):
            return key
    return None


def new_usage_log_entry_id() -> str:
    """12 random letters and digits, as the original's ids (`g1x419UgQSS5`)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


def _from_row(row: Any) -> UsageLogEntry:
    return UsageLogEntry(
        id=row.id,
        state=row.state,
        purpose=row.purpose,
        url=row.url,
        params=row.params,
        document_id=row.document_id,
        publication_id=row.publication_id,
        reporting_date=row.reporting_date,
        publication_date=row.publication_date,
    )


# --- Reading -----------------------------------------------------------------------------------


async def _entry_media_type(db: Database, project: str, entry_id: str) -> str:
    """The entry's media type; NotFound when the project has no such entry."""
    if not is_valid_entry_id(entry_id):
        raise not_found(entry_id)
    async with db.read() as conn:
        media_type = await conn.scalar(
            sa.select(media_entries.c.media_type).where(
                media_entries.c.project == project, media_entries.c.id == entry_id
            )
        )
    if media_type is None:
        raise not_found(entry_id)
    return str(media_type)


async def usage_log(db: Database, project: str, entry_id: str) -> list[UsageLogEntry]:
    """The entry's usage log in the order it was reported."""
    await _entry_media_type(db, project, entry_id)
    log = usage_log_entries.c
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(usage_log_entries)
            .where(log.project == project, log.entry_id == entry_id)
            .order_by(log.reporting_date, log.id)
        )
        return [_from_row(row) for row in rows]


@dataclass(frozen=True)
class DocumentReference:
    """A document the entry's usage log names, with the usage log entries that name it."""

    document_id: int
    usages: list[UsageLogEntry]


@dataclass(frozen=True)
class ReferencePage:
    total: int
    documents: list[DocumentReference]
    cursor: str | None  # after the last document of this page; None on the last page
    reference_type: str  # the entry's kind as references say it: image, video or file


async def document_references(
    db: Database, project: Project, entry_id: str, *, limit: int, offset: int, after: str | None
) -> ReferencePage:
    """The documents named in the entry's usage log, by document id, a page at a time: after
    the document `after` (a cursor) or else from the `offset`th one."""
    media_type = await _entry_media_type(db, project.handle, entry_id)
    log = usage_log_entries.c
    mine = sa.and_(
        log.project == project.handle, log.entry_id == entry_id, log.document_id.is_not(None)
    )
    ids = sa.select(log.document_id).where(mine).distinct().order_by(log.document_id)
    # A cursor continues after its document; without one, the page starts at the offset.
    ids = ids.where(log.document_id > _decode(after)) if after is not None else ids.offset(offset)
    async with db.read() as conn:
        total = await conn.scalar(
            sa.select(sa.func.count(sa.distinct(log.document_id))).where(mine)
        )
        page = [int(found) for found in (await conn.scalars(ids.limit(limit + 1))).all()]
        more, page = len(page) > limit, page[:limit]
        rows = await conn.execute(
            sa.select(usage_log_entries)
            .where(mine, log.document_id.in_(page))
            .order_by(log.document_id, log.reporting_date, log.id)
        )
        usages = [_from_row(row) for row in rows]
    documents = [
        DocumentReference(number, [u for u in usages if u.document_id == number]) for number in page
    ]
    cursor = _encode(page[-1]) if more and page else None
    configured = project.media_types.get(media_type)
    kind = configured.kind.removeprefix("media").lower() if configured else media_type
    return ReferencePage(int(total or 0), documents, cursor, kind)


def _encode(document_id: int) -> str:
    return page_cursors.encode("d", str(document_id))


def _decode(cursor: str) -> int:
    return int(page_cursors.decode("d", cursor, _is_document_number))


def _is_document_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 16

"""An entry's picture as the analysis leaves it (issue 30: `placeholder`, `color`,
`focalPoint`, `faces` in an image's asset or a video's poster), for tests of what the web view
does with those fields; and entries as a library imported before the analysis holds them.

The import neither sets them nor takes them from a caller (they are medialib's own), and no
interface writes them but the analysis: so this writes them into the stored asset with SQL, the
one place tests do.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from medialib.db.engine import Tx
from medialib.db.tables import media_entries, perceptual_hashes
from medialib.library.analysis import without_analysis
from tests.support.stack import Stack

# A ThumbHash (standard base64) of a 100x75 picture, warm orange at its top left to blue at its
# bottom right: thumbhash.js decodes it to 32x23 pixels, the top left one (245, 127, 49).
PLACEHOLDER = "pSkKNYqLiIiAh3eIh3iHd4t/99iI"
PLACEHOLDER_SIZE = (32, 23)
PLACEHOLDER_TOP_LEFT = (245, 127, 49)


async def analysed(stack: Stack, project: str, entry_id: str, **fields: Any) -> None:
    """Give the entry's picture (its image, or its video's poster) these fields."""

    def write(tx: Tx) -> None:
        where = sa.and_(media_entries.c.project == project, media_entries.c.id == entry_id)
        asset = dict(tx.execute(sa.select(media_entries.c.asset).where(where)).scalar_one())
        if isinstance(asset.get("poster"), dict):
            asset["poster"] = asset["poster"] | fields
        else:
            asset |= fields
        tx.execute(media_entries.update().where(where).values(asset=asset))

    await stack.runtime.db.transact(write)


async def forget_analysis(stack: Stack, project: str, ids: list[str]) -> None:
    """Make entries look imported before the analysis existed: their assets without what it
    found, the index without their hashes (the state migration 0016 leaves an older library in)."""

    def forget(tx: Any) -> None:
        rows = tx.execute(
            sa.select(media_entries.c.id, media_entries.c.asset).where(
                media_entries.c.project == project, media_entries.c.id.in_(ids)
            )
        )
        for media_id, asset in rows.all():
            tx.execute(
                media_entries.update()
                .where(media_entries.c.project == project, media_entries.c.id == media_id)
                .values(asset=without_analysis(asset))
            )
        tx.execute(
            perceptual_hashes.delete().where(
                perceptual_hashes.c.project == project, perceptual_hashes.c.entry_id.in_(ids)
            )
        )

    await stack.runtime.db.transact(forget)

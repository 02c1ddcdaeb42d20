"""An entry's picture as the analysis leaves it (issue 30: `placeholder`, `color`,
`focalPoint`, `faces` in an image's asset or a video's poster), for tests of what the web view
does with those fields.

The import neither sets them nor takes them from a caller (they are medialib's own), and no
interface writes them but the analysis: so this writes them into the stored asset with SQL, the
one place tests do.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from medialib.db.engine import Tx
from medialib.db.tables import media_entries
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

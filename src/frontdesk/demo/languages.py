"""The six languages of the demo, in the order the loader walks them."""

from __future__ import annotations

from frontdesk.demo import content_cs, content_en, content_id, content_pl, content_ru, content_th
from frontdesk.demo.content import LanguagePack

PACKS: dict[str, LanguagePack] = {
    pack.code: pack
    for pack in (
        content_en.PACK,
        content_pl.PACK,
        content_cs.PACK,
        content_ru.PACK,
        content_id.PACK,
        content_th.PACK,
    )
}

LANGUAGES: tuple[str, ...] = tuple(PACKS)

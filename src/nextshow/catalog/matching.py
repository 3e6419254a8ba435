"""Turn what a user typed into catalogue shows: exact, by IMDb id, by year, fuzzy, or a new show.

The public face of the matcher; the work is split by job: ``titles`` (rows, hits, title rules),
``index_tables`` (lookup structures), ``ranking`` (prefix and typo stages), ``title_index`` (the
index) and ``user_shows`` (creating shows users typed).

Two entry points share one in-memory :class:`TitleIndex` (built once from the ``shows`` table; the
web service keeps one and adds new shows to it):

``TitleIndex.search``
    Autocomplete. Stages, each ranked before the next: exact title (most voted first), prefix of
    the title, of a word inside it or of the original title (ranked by a blend of how much of the
    title was typed and popularity), then fuzzy matches for typos. A prefix lookup is a binary
    search in a sorted list of keys; only the fuzzy stage touches every title, and only when the
    earlier stages found fewer than ``limit`` shows.

``TitleIndex.match``
    Resolution of a whole title, ``"Title (Year)"`` or IMDb id to one show, or to candidates the
    user must choose from. ``resolve_or_create`` adds a user-submitted show when nothing matches.

Every :class:`Hit` carries ``score`` (0–100): how well the typed text matches that show's title
(100 for an exact or IMDb id match, the share of the title typed for prefixes, the rapidfuzz
similarity for typos). The *order* of hits is the ranking described above, which also weighs
popularity, so a lower-scored but much more voted show can come first within a stage.
"""

from nextshow.catalog.title_index import (
    MATCH_FUZZY_CUTOFF,
    MAX_CANDIDATES,
    MIN_FUZZY_QUERY,
    SEARCH_FUZZY_CUTOFF,
    TitleIndex,
    load_title_index,
)
from nextshow.catalog.titles import (
    MAX_TITLE_LENGTH,
    USER_SOURCE,
    Hit,
    MatchKind,
    MatchResult,
    MatchStatus,
    ShowRow,
    clean_title_text,
    popularity,
    user_external_id,
)
from nextshow.catalog.user_shows import get_or_create_user_show, resolve_or_create, would_create
from nextshow.ids import parse_imdb_id

__all__ = [
    "MATCH_FUZZY_CUTOFF",
    "MAX_CANDIDATES",
    "MAX_TITLE_LENGTH",
    "MIN_FUZZY_QUERY",
    "SEARCH_FUZZY_CUTOFF",
    "USER_SOURCE",
    "Hit",
    "MatchKind",
    "MatchResult",
    "MatchStatus",
    "ShowRow",
    "TitleIndex",
    "clean_title_text",
    "get_or_create_user_show",
    "load_title_index",
    "parse_imdb_id",
    "popularity",
    "resolve_or_create",
    "user_external_id",
    "would_create",
]

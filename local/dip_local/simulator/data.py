"""Deterministic, seeded data of abaya sellers; metrics grow with the simulator's clock (``tick``).

Without a clock a tick is an ``/_sim/advance`` step; with one (:class:`dip_local.simulator.state.SimState`)
a post's tick is its age in whole hours and an account's the hours since the dataset's first post.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# Fixed identities so configuration can name the accounts; the seed varies content and metrics.
IG_ACCOUNTS = (
    ("17841400000000101", "lina.abayas"),
    ("17841400000000102", "noor_modestwear"),
    ("17841400000000103", "dubai.abaya.house"),
)
TT_ACCOUNTS = (
    ("_000LinaAbayasOpenId", "Lina Abayas"),
    ("_000NoorModestOpenId", "Noor Modest Wear"),
    ("_000DubaiAbayaOpenId", "Dubai Abaya House"),
)
POSTS_PER_ACCOUNT = 10
POST_GAP_HOURS = (20, 72)  # hours between an account's consecutive posts, drawn uniformly
NEWEST_POST = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)

_CAPTIONS_EN = (
    "New season black abaya with pearl cuffs ✨",
    "Linen abaya for hot days ☀️ breathable and light",
    "Eid collection drop is live 🌙 limited pieces",
    "Behind the scenes: stitching our kimono abaya 🧵",
    "Styling tip: belt your open abaya for a sharper look 👌",
    "Customer favourite: the everyday crepe abaya 💕",
)
_CAPTIONS_AR = (
    "عباية سوداء جديدة بأكمام لؤلؤ",
    "عباية كتان مريحة للصيف",
    "مجموعة العيد متوفرة الآن",
    "خلف الكواليس في مشغلنا",
    "عباية يومية أنيقة وعملية",
)
_HASHTAGS = "#abaya #عباية #modestfashion"
_COUNTRIES = ("SA", "AE", "KW", "QA", "BH", "OM", "EG", "GB")
_AGES = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
_GENDERS = ("F", "M", "U")


@dataclass
class Post:
    """One post/video with a base and a per-tick growth for each metric."""

    id: str
    account_id: str
    created: datetime
    caption: str
    media_type: str
    product_type: str
    hide_likes: bool
    base: dict[str, int]
    growth: dict[str, int]
    duration: int

    def metric(self, name: str, tick: int) -> int:
        """Value of ``name`` at clock ``tick``: base + growth * tick (monotonic, deterministic)."""
        return self.base[name] + self.growth[name] * tick


@dataclass
class Account:
    """A seller account on one platform."""

    id: str
    name: str
    base_followers: int
    follower_growth: int
    following: int
    posts: list[Post] = field(default_factory=list)
    audience: dict[str, dict[str, int]] = field(default_factory=dict)

    def followers(self, tick: int) -> int:
        return self.base_followers + self.follower_growth * tick


@dataclass
class Dataset:
    """Both platforms' accounts; posts are sorted newest first."""

    seed: int
    instagram: dict[str, Account]
    tiktok: dict[str, Account]

    @property
    def epoch(self) -> datetime:
        """When the first post of any account was published (account ticks count from here)."""
        return min(p.created for a in (*self.instagram.values(), *self.tiktok.values()) for p in a.posts)

    def ig_media(self, media_id: str) -> Post | None:
        for account in self.instagram.values():
            for post in account.posts:
                if post.id == media_id:
                    return post
        return None


def _caption(rng: random.Random) -> str:
    return f"{rng.choice(_CAPTIONS_EN)} | {rng.choice(_CAPTIONS_AR)} {_HASHTAGS}"


def _metrics(rng: random.Random, names: tuple[str, ...]) -> tuple[dict[str, int], dict[str, int]]:
    base = {n: rng.randint(50, 5000) for n in names}
    growth = {n: rng.randint(1, 40) for n in names}
    return base, growth


def _posts(
    rng: random.Random,
    account_id: str,
    id_base: int,
    tiktok: bool,
    newest: datetime,
    count: int = POSTS_PER_ACCOUNT,
    gap_hours: tuple[int, int] = POST_GAP_HOURS,
) -> list[Post]:
    names = ("views", "likes", "comments", "shares", "saved", "reach")
    posts = []
    created = newest
    for i in range(count):
        base, growth = _metrics(rng, names)
        media_type = "VIDEO" if tiktok else rng.choice(("IMAGE", "VIDEO", "CAROUSEL_ALBUM"))
        posts.append(
            Post(
                id=str(id_base + i),
                account_id=account_id,
                created=created,
                caption=_caption(rng),
                media_type=media_type,
                product_type="REELS" if media_type == "VIDEO" else "FEED",
                hide_likes=not tiktok and (i % 4 == 1),
                base=base,
                growth=growth,
                duration=rng.randint(8, 90),
            )
        )
        created -= timedelta(hours=rng.randint(*gap_hours))
    return posts


def _audience(rng: random.Random) -> dict[str, dict[str, int]]:
    return {
        "country": {c: rng.randint(10, 900) for c in _COUNTRIES},
        "age": {a: rng.randint(10, 900) for a in _AGES},
        "gender": {g: rng.randint(10, 900) for g in _GENDERS},
    }


def _account(
    rng: random.Random,
    account_id: str,
    name: str,
    id_base: int,
    tiktok: bool,
    newest: datetime,
    count: int,
    gap_hours: tuple[int, int],
) -> Account:
    """One account with random follower numbers and its posts (ids from ``id_base``, the newest at ``newest``)."""
    account = Account(account_id, name, rng.randint(2_000, 90_000), rng.randint(1, 50), rng.randint(50, 900))
    account.posts = _posts(rng, account_id, id_base, tiktok=tiktok, newest=newest, count=count, gap_hours=gap_hours)
    return account


def build_dataset(
    seed: int = 42,
    posts_per_account: int = POSTS_PER_ACCOUNT,
    newest_post: datetime = NEWEST_POST,
    post_gap_hours: tuple[int, int] = POST_GAP_HOURS,
) -> Dataset:
    """The simulator's world for ``seed`` (same seed, same data, in every process); ``posts_per_account``
    scales the volume (``dip demo --scale``); ``newest_post`` places it in time (every publish time moves
    with it, the gaps between them stay); ``post_gap_hours`` is how often the accounts post."""
    rng = random.Random(seed)
    volume = (posts_per_account, post_gap_hours)
    instagram: dict[str, Account] = {}
    for n, (ig_id, username) in enumerate(IG_ACCOUNTS):
        newest = newest_post - timedelta(hours=n * 5)
        account = _account(rng, ig_id, username, 18_000_000_000_000_000 + (n + 1) * 1000, False, newest, *volume)
        account.audience = _audience(rng)
        instagram[ig_id] = account
    tiktok: dict[str, Account] = {}
    for n, (open_id, name) in enumerate(TT_ACCOUNTS):
        newest = newest_post - timedelta(hours=n * 3)
        tiktok[open_id] = _account(
            rng, open_id, name, 7_300_000_000_000_000_000 + (n + 1) * 1000, True, newest, *volume
        )
    return Dataset(seed, instagram, tiktok)

"""Deterministic, seeded data of abaya sellers; metrics grow with the simulator's clock (``tick``).

Without a clock a tick is an ``/_sim/advance`` step; with one (:class:`dip_local.simulator.state.SimState`)
a post's tick is its age in whole hours and an account's the hours since the dataset's first post.

Post metrics look like a real account's: a post's views approach a total with an exponential decay after publish
(``total * (1 - exp(-tick / decay_hours))``, decay 4-30 h, so 0 views at publish), the total being a share of the
account's followers (about 1 in 12 posts goes viral: 6-20x); likes, comments, shares and saves are an engagement
rate of the views (median ~4%, 1-10% typically, never above 15%), so likes never exceed views.
"""

from __future__ import annotations

import math
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


METRIC_NAMES = ("views", "likes", "comments", "shares", "saved", "reach")
# how an engagement splits into interactions, and reach as a share of views (accounts reached / plays)
_INTERACTION_SHARES = {"likes": 0.8, "comments": 0.07, "shares": 0.05, "saved": 0.08}
_REACH_SHARE = 0.8
VIRAL_SHARE = 1 / 12


@dataclass
class Post:
    """One post/video: the totals its metrics approach and how fast (``decay_hours``)."""

    id: str
    account_id: str
    created: datetime
    caption: str
    media_type: str
    product_type: str
    hide_likes: bool
    totals: dict[str, int]
    decay_hours: float
    duration: int

    def metric(self, name: str, tick: int) -> int:
        """Value of ``name`` at clock ``tick``: ``total * (1 - exp(-tick / decay_hours))`` (monotonic, 0 at 0)."""
        return int(self.totals[name] * (1 - math.exp(-max(tick, 0) / self.decay_hours)))


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


def _metrics(rng: random.Random, followers: int) -> tuple[dict[str, int], float]:
    """A post's metric totals and decay time. Its own generator is seeded from the dataset's 12 draws per post (the
    number the simulator always took), so publish times and captions stay those of earlier versions of a seed."""
    draws = [rng.randint(50, 5000) for _ in range(6)] + [rng.randint(1, 40) for _ in range(6)]
    own = random.Random(sum(d * 7919**i for i, d in enumerate(draws)))
    views = followers * own.uniform(0.15, 0.6)
    if own.random() < VIRAL_SHARE:
        views *= own.uniform(6, 20)
    rate = min(own.lognormvariate(math.log(0.04), 0.5), 0.15)
    totals = {"views": int(views), "reach": int(views * _REACH_SHARE)}
    totals |= {name: int(views * rate * share) for name, share in _INTERACTION_SHARES.items()}
    return totals, own.uniform(4, 30)


def _posts(
    rng: random.Random,
    account_id: str,
    id_base: int,
    tiktok: bool,
    newest: datetime,
    followers: int,
    count: int = POSTS_PER_ACCOUNT,
    gap_hours: tuple[int, int] = POST_GAP_HOURS,
) -> list[Post]:
    posts = []
    created = newest
    for i in range(count):
        totals, decay_hours = _metrics(rng, followers)
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
                totals=totals,
                decay_hours=decay_hours,
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
    account.posts = _posts(
        rng, account_id, id_base, tiktok, newest, account.base_followers, count=count, gap_hours=gap_hours
    )
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

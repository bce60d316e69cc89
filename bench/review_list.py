"""Review-list benchmark: the response time of `GET /api/review/items` with 100,000 collected messages.

For SQLite (a temporary file) and PostgreSQL (a throwaway server, like the tests), a fresh database
is migrated and filled with 100,000 collected customer messages: most are written in bulk straight
into review_items / review_occurrences (grouped the way `collect` groups them: a Zipf-like number of
messages per normalised text, zh and en, every reason, the classifier's top three intents with their
confidences, ranks computed message by message with `service.next_rank`, a few items reviewed), and
a few hundred more go through the real `service.collect` (existing texts and new ones). Then the
real service (`python -m handoff_service serve`) is started on that database, a trainer logs in
through the API (session cookie, as the console), and the list is read over HTTP, one request at a
time (a trainer waits for each page): the default page, each reason, a predicted intent, a
confidence range, a language, a date range, a channel, a status and a deep page (offset 5,000).

    .venv-handoff/bin/python bench/review_list.py [--messages 100000] [--groups 25000] [--rounds 30]
                                                  [--only sqlite|postgresql]

Target (issue 26, not asserted): p95 <= 300 ms on both backends. PostgreSQL's tables are ANALYZEd
after the bulk load (what autovacuum does within a minute of it); SQLite is used as the service
leaves it. Client and service share the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, insert, select, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _handoff import free_port, pct, start_service, wait_healthy  # noqa: E402

from handoff_service.app import create_app  # noqa: E402
from handoff_service.core.clock import SystemClock  # noqa: E402
from handoff_service.core.config import Settings  # noqa: E402
from handoff_service.core.db import build_engine  # noqa: E402
from handoff_service.core.deps import DEPS  # noqa: E402
from handoff_service.core.migrate import upgrade  # noqa: E402
from handoff_service.core.pgtemp import temporary_postgres  # noqa: E402
from handoff_service.core.security import Passwords  # noqa: E402
from handoff_service.review import service as review  # noqa: E402
from handoff_service.review import states  # noqa: E402
from handoff_service.review.normalize import group_key  # noqa: E402
from handoff_service.staff.service import create_user  # noqa: E402

TARGET_P95_MS = 300.0
DAYS = 90  # the collected messages span the last 90 days
PASSWORD = "bench trainer password"
CHUNK = 5000

# ---------------------------------------------------------------- realistic texts (written for this bench)

# the intents the classifier predicts (domain.yml), with how often each is the top one
INTENTS = {
    "order_status": 14,
    "refund": 12,
    "return_exchange": 9,
    "payment_issue": 8,
    "account_issue": 7,
    "product_inquiry": 7,
    "cancel_order": 6,
    "modify_order": 5,
    "complain": 5,
    "request_human": 5,
    "faq": 6,
    "invoice": 3,
    "service_outage": 2,
    "inform": 4,
    "out_of_scope": 4,
    "greet": 1,
    "thank": 1,
    "affirm": 1,
}
EN_OPEN = ["", "hi ", "hello, ", "excuse me, ", "um ", "hey so ", "quick question: ", "sorry but ", "ok ", "pls "]
EN_TOPIC = [
    "the parcel shows delivered but the box is empty",
    "my voucher code vanished after checkout",
    "you charged the shipping fee twice",
    "the size chart on the jacket page is wrong",
    "can the courier leave it at the front desk",
    "the app logs me out every time I open the cart",
    "my points balance dropped overnight",
    "the blender arrived with a cracked jug",
    "is the warranty still valid if I moved abroad",
    "the refund went to a card I cancelled",
    "why is my order split into three parcels",
    "the invoice has my old company name",
    "i picked the wrong colour, can it be swapped",
    "the pickup locker code does not work",
    "your chat keeps saying the same thing",
    "the tracking page is in a language I cannot read",
    "the discount did not apply to the second item",
    "i never received the verification email",
    "the headphones only play on the left side",
    "can i pay the rest on delivery",
    "the gift wrap option disappeared",
    "the courier asked me for extra cash",
    "the order page says pending for two days",
    "my bank shows a hold but the order failed",
    "the charger smells like burning plastic",
    "can someone call me back in the afternoon",
    "the product photo shows a different model",
    "the second half of my order never came",
    "i want the receipt without prices for a gift",
    "the address form will not accept my postcode",
]
EN_TAIL = ["", " please", " thanks", " ???", " asap", " this is annoying", " any idea", " help", " again", " today"]
EN_EXTRA = ["", " for my mum", " from last week", " on the website", " in the app", " at work"]
ZH_OPEN = ["", "你好，", "请问", "亲，", "喂，", "那个", "麻烦问下", "急！", "我想问", "客服，"]
ZH_TOPIC = [
    "快递显示签收了可是我没收到",
    "优惠券结账后就不见了",
    "运费被扣了两次",
    "外套的尺码表好像不对",
    "能不能让快递放前台",
    "一打开购物车就退出登录",
    "积分一晚上少了好多",
    "料理机的杯子裂了",
    "搬到国外了保修还算吗",
    "退款退到一张注销的卡上了",
    "为什么订单拆成三个包裹",
    "发票抬头还是旧公司名",
    "颜色选错了能换吗",
    "自提柜取件码用不了",
    "你们机器人老说一样的话",
    "物流页面看不懂",
    "第二件没有打折",
    "验证邮件一直收不到",
    "耳机只有左边有声音",
    "剩下的钱能货到付款吗",
    "礼品包装的选项没了",
    "快递员让我再给钱",
    "订单两天了还是待处理",
    "银行冻结了钱订单却失败了",
    "充电器有烧焦的味道",
    "下午能打电话给我吗",
    "收到的型号和图片不一样",
    "另一半的货一直没来",
    "送人的想要不带价格的小票",
    "地址栏填不了邮编",
]
ZH_TAIL = ["", "？", "，谢谢", "！！", "，急", "，怎么回事", "，烦死了", "，在吗", "，帮帮忙", "呀"]
ZH_EXTRA = ["", "（给我妈买的）", "，上周买的", "，网页上", "，在App里", "，公司地址"]

# reasons as collected: the first weight is how often it is a message's (first) reason
REASON_WEIGHTS = {
    states.FALLBACK: 35,
    states.LOW_CONFIDENCE: 30,
    states.SMALL_MARGIN: 20,
    states.AGENT_CORRECTION: 10,
    states.LOW_CSAT: 5,
}
STATUS_WEIGHTS = {states.OPEN: 80, states.LABELLED: 8, states.APPLIED: 5, states.IGNORED: 5, states.FLAGGED: 2}
CHANNELS = {"socketio": 60, "rest": 25, "callback": 15}


def pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def texts(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """n (language, text) pairs, each its own group (distinct after normalisation)."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(out) < n:
        if rng.random() < 0.55:
            lang = "zh"
            t = rng.choice(ZH_OPEN) + rng.choice(ZH_TOPIC) + rng.choice(ZH_EXTRA) + rng.choice(ZH_TAIL)
        else:
            lang = "en"
            t = rng.choice(EN_OPEN) + rng.choice(EN_TOPIC) + rng.choice(EN_EXTRA) + rng.choice(EN_TAIL)
        if rng.random() < 0.3:  # customers rarely write the same sentence twice: a second clause
            t += ("，" if lang == "zh" else ", ") + (rng.choice(ZH_TOPIC) if lang == "zh" else rng.choice(EN_TOPIC))
        key = group_key(t)
        if key not in seen:
            seen.add(key)
            out.append((lang, t))
    return out


def ranking(rng: random.Random, top: str, reason: str) -> list[tuple[str, float]]:
    """The classifier's top three for a message collected for `reason`."""
    others = rng.sample([i for i in INTENTS if i != top], 2)
    if reason == states.FALLBACK:
        first = rng.uniform(0.12, 0.3)
    elif reason == states.LOW_CONFIDENCE:
        first = rng.uniform(0.3, 0.6)
    elif reason == states.SMALL_MARGIN:
        first = rng.uniform(0.35, 0.55)
    else:
        first = rng.uniform(0.55, 0.99)
    second = (
        first - rng.uniform(0.0, 0.02) if reason == states.SMALL_MARGIN else rng.uniform(0.0, min(first, 1 - first))
    )
    third = rng.uniform(0.0, min(second, max(0.0, 1 - first - second)))
    return [(top, round(first, 4)), (others[0], round(second, 4)), (others[1], round(third, 4))]


def counts(rng: random.Random, messages: int, groups: int) -> list[int]:
    """Messages per group: every group at least one, the rest Zipf-like (a few texts very often)."""
    weights = [1.0 / (i + 1) ** 1.1 for i in range(groups)]
    per = [1] * groups
    for g in rng.choices(range(groups), weights=weights, k=messages - groups):
        per[g] += 1
    return per


# ---------------------------------------------------------------- loading


@dataclass
class Loaded:
    items: int
    occurrences: int
    collected: int
    seconds: float


async def bulk_load(
    url: str, now: datetime, messages: int, groups: int, seed: int
) -> tuple[int, int, list[tuple[str, str]]]:
    """Items and occurrences written in bulk, grouped and ranked as `collect` would have."""
    rng = random.Random(seed)
    engine = build_engine(url, pool_size=2)
    clock, pw = SystemClock(), Passwords(1, 1024, 1)
    trainer = await create_user(engine, clock, pw, username="trainer1", password=PASSWORD, role="trainer")
    group_texts = texts(rng, groups)
    per_group = counts(rng, messages, groups)
    span = DAYS * 86400
    items: list[dict[str, Any]] = []
    occurrences: list[dict[str, Any]] = []
    occ_id = 0
    for gid, ((lang, body), n) in enumerate(zip(group_texts, per_group, strict=True), 1):
        top = pick(rng, INTENTS)
        # an item's messages: its own span within the 90 days, denser towards its newest
        end = rng.uniform(0, span) if rng.random() < 0.7 else rng.uniform(0, span / 10)
        length = rng.uniform(0, span - end)
        ats = sorted(now - timedelta(seconds=end + length * rng.random() ** 2) for _ in range(n))
        channel = pick(rng, CHANNELS)
        rank: float | None = None
        reasons_seen: list[str] = []
        last: list[tuple[str, float]] = []
        for at in ats:
            reason = pick(rng, REASON_WEIGHTS)
            reasons = [reason]
            if reason == states.LOW_CONFIDENCE and rng.random() < 0.3:
                reasons.append(states.SMALL_MARGIN)
            last = ranking(rng, top if rng.random() < 0.85 else pick(rng, INTENTS), reason)
            rank = review.next_rank(rank, at)
            reasons_seen = list(dict.fromkeys([*reasons_seen, *reasons]))
            occ_id += 1
            conversation = f"{rng.getrandbits(64):016x}"
            occurrences.append(
                {
                    "id": occ_id,
                    "item_id": gid,
                    "source": f"{conversation}:{at.timestamp():.3f}",
                    "conversation_id": conversation,
                    "at": at,
                    "text": body,
                    "reasons": reasons,
                    "intents": [{"name": name, "confidence": conf} for name, conf in last],
                    "channel": channel,
                }
            )
        status = pick(rng, STATUS_WEIGHTS)
        reviewed = status != states.OPEN
        items.append(
            {
                "id": gid,
                "key": group_key(body),
                "text": body,
                "language": lang,
                "script": ("traditional" if rng.random() < 0.1 else "simplified") if lang == "zh" else "latin",
                "status": status,
                "reasons": reasons_seen,
                "reason_bits": review.bits(reasons_seen),
                "top_intent": last[0][0],
                "top_confidence": last[0][1],
                "intents": [{"name": name, "confidence": conf} for name, conf in last],
                "channel": channel,
                "count": n,
                "rank": rank,
                "first_seen_at": ats[0],
                "last_seen_at": ats[-1],
                "label": pick(rng, INTENTS) if status in (states.LABELLED, states.APPLIED) else None,
                "comment": "is this a refund or a return?" if status == states.FLAGGED else None,
                "reviewed_by": trainer["id"] if reviewed else None,
                "reviewed_at": ats[-1] + timedelta(hours=rng.uniform(1, 48)) if reviewed else None,
            }
        )
    try:
        for table, rows in ((review.ITEMS, items), (review.OCCURRENCES, occurrences)):
            for start in range(0, len(rows), CHUNK):
                async with engine.begin() as conn:
                    await conn.execute(insert(table), rows[start : start + CHUNK])
        if engine.dialect.name == "postgresql":
            async with engine.begin() as conn:
                for table in ("review_items", "review_occurrences"):  # explicit ids: move the sequences on
                    await conn.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                    )
    finally:
        await engine.dispose()
    return len(items), len(occurrences), group_texts


async def collect_some(url: str, now: datetime, group_texts: Sequence[tuple[str, str]], n: int, seed: int) -> int:
    """`n` messages through the real `service.collect` (two in three to existing items, with new
    wording around them; the rest new texts), from the app's own dependencies."""
    from aiohttp import web

    rng = random.Random(seed + 1)
    app = create_app(Settings(database_url=url, db_pool_size=2), run_background=False)
    runner = web.AppRunner(app)
    await runner.setup()  # cleanup_ctx: engines and Deps, no socket
    done = 0
    try:
        deps = app[DEPS]
        fresh = texts(random.Random(seed + 2), n)
        for i in range(n):
            lang, body = rng.choice(group_texts[:2000]) if i % 3 else fresh[i]
            if i % 3 and rng.random() < 0.5:  # the same item after normalisation: case, width, punctuation
                body = body.upper() + ("！" if lang == "zh" else "!!")
            reason = pick(rng, REASON_WEIGHTS)
            intents = ranking(rng, pick(rng, INTENTS), reason)
            at = now - timedelta(seconds=rng.uniform(0, 3600))
            item = await review.collect(
                deps,
                review.Collected(
                    source=f"bench-collect-{i}:{at.timestamp():.3f}",
                    conversation_id=f"bench-collect-{i}",
                    at=at,
                    text=body,
                    reasons=(reason,),
                    intents=tuple(intents),
                    language=lang,
                    script="simplified" if lang == "zh" else "latin",
                    channel=pick(rng, CHANNELS),
                ),
            )
            done += item is not None
    finally:
        await runner.cleanup()
    return done


async def prepare(url: str, args: argparse.Namespace, now: datetime) -> Loaded:
    t0 = time.perf_counter()
    await asyncio.to_thread(upgrade, url)  # alembic runs its own event loop
    n_items, n_occ, group_texts = await bulk_load(url, now, args.messages - args.collect, args.groups, args.seed)
    collected = await collect_some(url, now, group_texts, args.collect, args.seed)
    engine = build_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                await conn.execute(text("ANALYZE review_items"))
                await conn.execute(text("ANALYZE review_occurrences"))
            items = (await conn.execute(select(func.count()).select_from(review.ITEMS))).scalar_one()
            occurrences = (await conn.execute(select(func.count()).select_from(review.OCCURRENCES))).scalar_one()
    finally:
        await engine.dispose()
    assert occurrences == n_occ + collected, (occurrences, n_occ, collected)
    return Loaded(items, occurrences, collected, time.perf_counter() - t0)


# ---------------------------------------------------------------- measuring


def requests_mix(now: datetime) -> list[tuple[str, str]]:
    """(name, query) of the trainers' requests."""
    day = 86400
    ts = int(now.timestamp())
    mix = [("default page (100 items)", "")]
    mix += [(f"reason={r}", f"reason={r}") for r in states.REASONS]
    mix += [
        ("intent=refund", "intent=refund"),
        ("confidence 0.3-0.6", "min_confidence=0.3&max_confidence=0.6"),
        ("language=en", "language=en"),
        ("last 7 days", f"since={ts - 7 * day}"),
        ("30 to 20 days ago", f"since={ts - 30 * day}&until={ts - 20 * day}"),
        ("channel=callback", "channel=callback"),
        ("status=labelled", "status=labelled"),
        ("zh, fallback, last 30 days", f"language=zh&reason=fallback&since={ts - 30 * day}"),
        ("offset 5000", "offset=5000"),
    ]
    return mix


async def measure(base: str, now: datetime, rounds: int) -> dict[str, list[float]]:
    """Each request of the mix `rounds` times, in a shuffled order each round, one at a time; one
    unmeasured round first (connection, the service's first queries)."""
    mix = requests_mix(now)
    times: dict[str, list[float]] = {name: [] for name, _ in mix}
    jar = aiohttp.CookieJar(unsafe=True)  # cookies from 127.0.0.1
    async with aiohttp.ClientSession(cookie_jar=jar) as s:
        async with s.post(f"{base}/api/auth/login", json={"username": "trainer1", "password": PASSWORD}) as r:
            assert r.status == 200, await r.text()
        order = list(mix)
        rng = random.Random(7)
        for round_ in range(rounds + 1):
            rng.shuffle(order)
            for name, query in order:
                t0 = time.perf_counter()
                async with s.get(f"{base}/api/review/items?{query}") as r:
                    body = await r.json()
                elapsed = time.perf_counter() - t0
                assert r.status == 200, (name, r.status, body)
                if name == "offset 5000":
                    assert body["offset"] == 5000
                if round_:
                    times[name].append(elapsed * 1000)
    return times


async def bench_backend(label: str, url: str, args: argparse.Namespace, workdir: Path) -> None:
    now = datetime.now(UTC)
    loaded = await prepare(url, args, now)
    print(
        f"  loaded {loaded.occurrences:,} collected messages in {loaded.items:,} items "
        f"({loaded.collected} of them through service.collect) in {loaded.seconds:.0f} s",
        flush=True,
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = workdir / f"service-{label}.log"
    # the review list never calls Rasa; a console session over http
    proc = start_service(url, port, log, HANDOFF_RASA_URL="http://127.0.0.1:9", HANDOFF_COOKIE_SECURE="false")
    try:
        await wait_healthy(base, proc, log)
        times = await measure(base, now, args.rounds)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(f"  {'request':<30} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, values in times.items():
        print(f"  {name:<30} {pct(values, 50):>8.1f} {pct(values, 95):>8.1f} {max(values):>8.1f}")
    every = [v for values in times.values() for v in values]
    p95 = pct(every, 95)
    verdict = "met" if p95 <= TARGET_P95_MS else "NOT met"
    print(
        f"  {'all ' + str(len(every)) + ' requests':<30} {pct(every, 50):>8.1f} {p95:>8.1f} {max(every):>8.1f}"
        f"   target p95 <= {TARGET_P95_MS:.0f} ms: {verdict}",
        flush=True,
    )


async def main_async(args: argparse.Namespace) -> None:
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="review-bench-")))
        backends: list[tuple[str, Callable[[], str]]] = []
        if args.only in (None, "sqlite"):
            backends.append(("sqlite", lambda: f"sqlite+aiosqlite:///{workdir / 'review.db'}"))
        if args.only in (None, "postgresql"):
            backends.append(("postgresql", lambda: stack.enter_context(temporary_postgres("review_bench"))))
        for label, make_url in backends:
            print(f"\n{label}: GET /api/review/items, one trainer, {args.rounds} rounds of the mix", flush=True)
            await bench_backend(label, make_url(), args, workdir)
            print(f"  load average after run: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--messages", type=int, default=100_000, help="collected messages in all")
    p.add_argument("--groups", type=int, default=25_000, help="distinct texts (items) written in bulk")
    p.add_argument("--collect", type=int, default=300, help="of the messages, how many go through service.collect")
    p.add_argument("--rounds", type=int, default=30, help="measured rounds of the request mix")
    p.add_argument("--seed", type=int, default=26)
    p.add_argument("--only", choices=["sqlite", "postgresql"])
    args = p.parse_args()
    print(f"review-list benchmark, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, target p95 <= 300 ms")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()

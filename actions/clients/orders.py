"""Order backend clients: the shop's order API over HTTP, or the offline SQLite demo store.

Both offer the same async methods and return plain `Order` / `Product` records, or
None for an unknown number. Each order belongs to a customer (`customer_id`) and carries the
phone number it was placed with; the phone never leaves the backend: `phone_matches` answers
whether given last four digits are the phone's. `order_backend()` picks one from the environment:
ORDER_BACKEND_URL set -> HTTP; otherwise the demo store at DEMO_STORE_PATH
(default var/demo_store.db, created and seeded on first use).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import hmac
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import yaml

SEED_FILE = Path(__file__).with_name("demo_store_seed.yml")
DEFAULT_STORE = Path(__file__).resolve().parents[2] / "var" / "demo_store.db"

CANCELLABLE = {"pending_payment", "paid"}
# the demo store's schema; a store file of an older version is recreated from the seed
SCHEMA_VERSION = 3
PHONE_SUFFIX_DIGITS = 4
# Guessing across conversations: after this many wrong phone checks of one order within a day, the store
# answers "no match" to every check of that order until the day has passed (a person helps meanwhile).
MAX_FAILED_PHONE_CHECKS = 10
FAILED_CHECK_WINDOW = dt.timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class Product:
    sku: str
    name_zh: str
    name_en: str
    price: int
    stock: int
    summary_zh: str
    summary_en: str

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_zh

    def summary(self, language: str) -> str:
        return self.summary_en if language == "en" else self.summary_zh


@dataclasses.dataclass(frozen=True)
class Order:
    number: str
    sku: str
    status: str  # pending_payment | paid | shipped | delivered | cancelled
    product_zh: str = ""
    product_en: str = ""
    carrier_zh: str = ""
    carrier_en: str = ""
    tracking: str = ""
    eta: str = ""
    delivered_at: str = ""
    refund: str = "none"  # none | processing | refunded
    refund_amount: int = 0
    refund_requested_at: str = ""
    refund_eta: str = ""
    refunded_at: str = ""
    customer_id: str = ""  # whose order it is ("" = nobody's: no identified customer matches it)

    def product(self, language: str) -> str:
        return self.product_en if language == "en" else self.product_zh

    def carrier(self, language: str) -> str:
        return self.carrier_en if language == "en" else self.carrier_zh

    @property
    def cancellable(self) -> bool:
        return self.status in CANCELLABLE


ORDER_FIELDS = frozenset(field.name for field in dataclasses.fields(Order))


def order_from(data: dict[str, Any]) -> Order:
    """An Order from a record that may hold more (the phone, fields of a newer API): those are left out."""
    return Order(**{key: value for key, value in data.items() if key in ORDER_FIELDS})


def suffix_matches(phone: str, digits: str) -> bool:
    """Whether `digits` are the phone's last four, compared in constant time."""
    if len(phone) < PHONE_SUFFIX_DIGITS or len(digits) != PHONE_SUFFIX_DIGITS:
        return False
    return hmac.compare_digest(phone[-PHONE_SUFFIX_DIGITS:].encode(), digits.encode())


class OrderBackend(Protocol):
    async def get_order(self, number: str) -> Order | None: ...

    async def phone_matches(self, number: str, last4: str) -> bool: ...

    async def cancel_order(self, number: str) -> Order | None: ...

    async def get_product(self, sku: str) -> Product | None: ...

    async def list_products(self) -> list[Product]: ...


class DemoOrderStore:
    """Offline backend: a SQLite file seeded from demo_store_seed.yml on first use.

    Schema (version 3, kept in `PRAGMA user_version`): products(sku, data), orders(number, customer_id,
    phone, data) with the order record as YAML in `data`, failed_phone_checks(number, at); a file of another
    version (1 had no owners, 2 no record of failed checks) is dropped and seeded again, so every order has
    its owner and phone."""

    def __init__(self, path: Path | str, today: dt.date | None = None) -> None:
        self.path = Path(path)
        self.today = today

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One connection and one transaction; the store is created and seeded on first use."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(sqlite3.connect(self.path, timeout=5)) as conn, conn:
            conn.row_factory = sqlite3.Row
            if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                self._create(conn)
            yield conn

    def _create(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")  # one process creates; the others wait and find it done
        if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        conn.execute("DROP TABLE IF EXISTS products")
        conn.execute("DROP TABLE IF EXISTS orders")
        conn.execute("CREATE TABLE products (sku TEXT PRIMARY KEY, data TEXT NOT NULL)")
        conn.execute(
            "CREATE TABLE orders (number TEXT PRIMARY KEY, customer_id TEXT NOT NULL, phone TEXT NOT NULL,"
            " data TEXT NOT NULL)"
        )
        conn.execute("CREATE INDEX orders_by_customer ON orders (customer_id)")
        conn.execute("DROP TABLE IF EXISTS failed_phone_checks")
        conn.execute("CREATE TABLE failed_phone_checks (number TEXT NOT NULL, at TEXT NOT NULL)")
        conn.execute("CREATE INDEX failed_phone_checks_by_order ON failed_phone_checks (number, at)")
        self._seed(conn)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _seed(self, conn: sqlite3.Connection) -> None:
        seed = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
        today = self.today or dt.date.today()
        day = lambda offset: (today + dt.timedelta(days=offset)).isoformat()  # noqa: E731
        products = {p["sku"]: p for p in seed["products"]}
        for product in seed["products"]:
            conn.execute("INSERT INTO products VALUES (?, ?)", (product["sku"], yaml.safe_dump(product)))
        for raw in seed["orders"]:
            product, carrier = products[raw["sku"]], seed["carriers"].get(raw.get("carrier"), {})
            order = Order(
                number=raw["number"],
                sku=raw["sku"],
                status=raw["status"],
                product_zh=product["name_zh"],
                product_en=product["name_en"],
                carrier_zh=carrier.get("zh", ""),
                carrier_en=carrier.get("en", ""),
                tracking=raw.get("tracking", ""),
                eta=day(raw["eta_days"]) if "eta_days" in raw else "",
                delivered_at=day(raw["delivered_days"]) if "delivered_days" in raw else "",
                refund=raw.get("refund", "none"),
                refund_amount=raw.get("refund_amount", 0),
                refund_requested_at=day(raw["refund_requested_days"]) if "refund_requested_days" in raw else "",
                refund_eta=day(raw["refund_eta_days"]) if "refund_eta_days" in raw else "",
                refunded_at=day(raw["refunded_days"]) if "refunded_days" in raw else "",
                customer_id=raw["customer_id"],
            )
            conn.execute(
                "INSERT INTO orders VALUES (?, ?, ?, ?)",
                (order.number, order.customer_id, raw["phone"], yaml.safe_dump(dataclasses.asdict(order))),
            )

    def _get_order(self, number: str) -> Order | None:
        with self._connect() as conn:
            row = conn.execute("SELECT data FROM orders WHERE number = ?", (number,)).fetchone()
        return order_from(yaml.safe_load(row["data"])) if row else None

    def _phone_matches(self, number: str, last4: str) -> bool:
        now = dt.datetime.now(dt.timezone.utc)
        since = (now - FAILED_CHECK_WINDOW).isoformat()
        with self._connect() as conn:  # count, compare and record in one transaction
            if not conn.in_transaction:  # (it is open already when this call created the store)
                conn.execute("BEGIN IMMEDIATE")
            failed = conn.execute(
                "SELECT COUNT(*) FROM failed_phone_checks WHERE number = ? AND at > ?", (number, since)
            ).fetchone()[0]
            row = conn.execute("SELECT phone FROM orders WHERE number = ?", (number,)).fetchone()
            matches = failed < MAX_FAILED_PHONE_CHECKS and row is not None and suffix_matches(row["phone"], last4)
            if not matches:
                conn.execute("INSERT INTO failed_phone_checks VALUES (?, ?)", (number, now.isoformat()))
                conn.execute("DELETE FROM failed_phone_checks WHERE at <= ?", (since,))
        return matches

    def _cancel_order(self, number: str) -> Order | None:
        with self._connect() as conn:  # read, check and write in one transaction
            row = conn.execute("SELECT data FROM orders WHERE number = ?", (number,)).fetchone()
            if row is None:
                return None
            order = order_from(yaml.safe_load(row["data"]))
            if not order.cancellable:
                return order
            changes: dict[str, Any] = {"status": "cancelled"}
            if order.status == "paid":
                changes.update(refund="processing", refund_requested_at=dt.date.today().isoformat())
            order = dataclasses.replace(order, **changes)
            conn.execute(
                "UPDATE orders SET data = ? WHERE number = ?", (yaml.safe_dump(dataclasses.asdict(order)), number)
            )
        return order

    def _get_product(self, sku: str) -> Product | None:
        with self._connect() as conn:
            row = conn.execute("SELECT data FROM products WHERE sku = ?", (sku,)).fetchone()
        return Product(**yaml.safe_load(row["data"])) if row else None

    def _list_products(self) -> list[Product]:
        with self._connect() as conn:
            rows = conn.execute("SELECT data FROM products ORDER BY sku").fetchall()
        return [Product(**yaml.safe_load(row["data"])) for row in rows]

    async def get_order(self, number: str) -> Order | None:
        return await asyncio.to_thread(self._get_order, number)

    async def list_products(self) -> list[Product]:
        return await asyncio.to_thread(self._list_products)

    async def phone_matches(self, number: str, last4: str) -> bool:
        return await asyncio.to_thread(self._phone_matches, number, last4)

    async def cancel_order(self, number: str) -> Order | None:
        return await asyncio.to_thread(self._cancel_order, number)

    async def get_product(self, sku: str) -> Product | None:
        return await asyncio.to_thread(self._get_product, sku)


class HttpOrderBackend:
    """The shop's order API: GET /orders/{n} (with `customer_id`), POST /orders/{n}/cancel,
    POST /orders/{n}/phone-check {"last4": "1234"} -> {"match": bool}, GET /products[/{sku}]; 404 = unknown."""

    def __init__(self, base_url: str, token: str = "", timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.timeout = timeout

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout, headers=self.headers) as session:
            async with session.request(method, f"{self.base_url}{path}", json=body) as response:
                if response.status == 404:
                    return None
                response.raise_for_status()
                return await response.json()

    async def get_order(self, number: str) -> Order | None:
        data = await self._call("GET", f"/orders/{number}")
        return order_from(data) if data else None

    async def phone_matches(self, number: str, last4: str) -> bool:
        data = await self._call("POST", f"/orders/{number}/phone-check", {"last4": last4})
        return bool(data and data.get("match") is True)

    async def cancel_order(self, number: str) -> Order | None:
        data = await self._call("POST", f"/orders/{number}/cancel")
        return order_from(data) if data else None

    async def get_product(self, sku: str) -> Product | None:
        data = await self._call("GET", f"/products/{sku}")
        return Product(**data) if data else None

    async def list_products(self) -> list[Product]:
        return [Product(**item) for item in await self._call("GET", "/products") or []]


def order_backend_from_env(env: dict[str, str] | None = None) -> OrderBackend:
    env = dict(os.environ) if env is None else env
    if env.get("ORDER_BACKEND_URL"):
        return HttpOrderBackend(env["ORDER_BACKEND_URL"], env.get("ORDER_BACKEND_TOKEN", ""))
    return DemoOrderStore(env.get("DEMO_STORE_PATH") or DEFAULT_STORE)

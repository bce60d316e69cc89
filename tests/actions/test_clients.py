import pytest
from aiohttp import web

from actions.clients.orders import DemoOrderStore, HttpOrderBackend, order_backend_from_env


async def test_demo_store_is_seeded_once_and_keeps_changes(store, tmp_path):
    assert (await store.get_order("20002")).status == "paid"
    await store.cancel_order("20002")
    reopened = DemoOrderStore(tmp_path / "demo_store.db")
    assert (await reopened.get_order("20002")).status == "cancelled"
    assert len(await reopened.list_products()) == 7


async def test_demo_store_unknown_order_and_product(store):
    assert await store.get_order("00000") is None
    assert await store.cancel_order("00000") is None
    assert await store.get_product("NOPE") is None


def test_backend_is_chosen_from_the_environment(tmp_path):
    assert isinstance(order_backend_from_env({"DEMO_STORE_PATH": str(tmp_path / "x.db")}), DemoOrderStore)
    http = order_backend_from_env({"ORDER_BACKEND_URL": "http://127.0.0.1:9/", "ORDER_BACKEND_TOKEN": "t"})
    assert isinstance(http, HttpOrderBackend) and http.headers == {"Authorization": "Bearer t"}


@pytest.fixture
async def order_api(unused_port):
    """A small local HTTP server standing in for the shop's order API."""
    seen = []

    async def get_order(request):
        seen.append((request.method, request.path, request.headers.get("Authorization")))
        if request.match_info["number"] != "12345":
            raise web.HTTPNotFound()
        return web.json_response(
            {"number": "12345", "sku": "K8", "status": "shipped", "carrier_en": "SF Express", "phone": "13800000000"}
        )

    async def cancel(request):
        seen.append((request.method, request.path, request.headers.get("Authorization")))
        return web.json_response({"number": "12345", "sku": "K8", "status": "cancelled"})

    async def phone_check(request):
        seen.append((request.method, request.path, request.headers.get("Authorization")))
        return web.json_response({"match": (await request.json())["last4"] == "4321"})

    async def broken(request):
        raise web.HTTPInternalServerError()

    app = web.Application()
    app.router.add_get("/orders/{number}", get_order)
    app.router.add_post("/orders/{number}/cancel", cancel)
    app.router.add_post("/orders/{number}/phone-check", phone_check)
    app.router.add_get("/products", broken)
    runner = web.AppRunner(app)
    await runner.setup()
    port = unused_port
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


async def test_http_backend_reads_and_cancels_orders(order_api):
    url, seen = order_api
    backend = HttpOrderBackend(url, token="secret")
    order = await backend.get_order("12345")
    assert order.status == "shipped" and order.carrier("en") == "SF Express"
    assert await backend.get_order("99999") is None
    assert (await backend.cancel_order("12345")).status == "cancelled"
    assert seen[0] == ("GET", "/orders/12345", "Bearer secret")
    assert seen[-1][:2] == ("POST", "/orders/12345/cancel")


async def test_http_backend_raises_on_server_errors(order_api):
    import aiohttp

    url, _ = order_api
    with pytest.raises(aiohttp.ClientResponseError):
        await HttpOrderBackend(url).list_products()


async def test_demo_orders_have_an_owner_and_a_phone_that_only_the_store_compares(store):
    order = await store.get_order("20002")
    assert order.customer_id == "cust-1001"
    assert not hasattr(order, "phone") and "138" not in repr(order)
    assert await store.phone_matches("20002", "8001")
    for wrong in ("8002", "800", "80011", "", "13800138001"):
        assert not await store.phone_matches("20002", wrong), wrong
    assert not await store.phone_matches("99999", "8001")


async def test_a_demo_store_of_the_old_schema_is_recreated_with_owners(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # version 1: no owners, no phones
        conn.execute("CREATE TABLE products (sku TEXT PRIMARY KEY, data TEXT NOT NULL)")
        conn.execute("CREATE TABLE orders (number TEXT PRIMARY KEY, data TEXT NOT NULL)")
        conn.execute("INSERT INTO products VALUES ('X2', 'sku: X2')")
        conn.execute("INSERT INTO orders VALUES ('20002', 'number: \"20002\"\nsku: X2\nstatus: cancelled\n')")
    store = DemoOrderStore(path)
    order = await store.get_order("20002")
    assert order.customer_id == "cust-1001" and order.status == "paid"
    assert await store.phone_matches("20002", "8001")
    await store.cancel_order("20002")
    assert (await DemoOrderStore(path).get_order("20002")).status == "cancelled"  # not seeded again


async def test_http_backend_asks_the_shop_to_compare_the_phone(order_api):
    url, seen = order_api
    backend = HttpOrderBackend(url)
    assert await backend.phone_matches("12345", "4321") is True
    assert await backend.phone_matches("12345", "0000") is False
    assert seen[-1][:2] == ("POST", "/orders/12345/phone-check")


async def test_guessing_one_orders_phone_across_conversations_stops_working(store, monkeypatch):
    from actions.clients import orders

    monkeypatch.setattr(orders, "MAX_FAILED_PHONE_CHECKS", 3)
    assert await store.phone_matches("20002", "8001")  # right answers do not count
    for guess in ("0000", "1111", "2222"):
        assert not await store.phone_matches("20002", guess)
    assert not await store.phone_matches("20002", "8001")  # even the right one, for a day
    assert await store.phone_matches("20004", "8001")  # other orders are not affected
    monkeypatch.setattr(orders, "FAILED_CHECK_WINDOW", orders.dt.timedelta(seconds=0))
    assert await store.phone_matches("20002", "8001")  # the day has passed

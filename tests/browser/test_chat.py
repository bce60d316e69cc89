"""The customer chat page (/chat): the vendored rasa-webchat widget, nothing
loaded from outside this machine, Chinese by default, English on request."""

from __future__ import annotations

from urllib.parse import urlsplit

from conftest import LOCAL_HOSTS, screenshot
from playwright.sync_api import expect


def test_chat_page_mounts_the_vendored_widget_without_outside_requests(new_page, service, guard):
    page = new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(service.chat_url + "/chat")
    widget = page.locator("#webchat .rw-conversation-container")
    expect(widget).to_be_visible()
    expect(page.locator(".rw-title")).to_have_text("在线客服")
    expect(page.locator(".rw-header")).to_contain_text("您好，有什么可以帮您？")
    expect(page.locator(".rw-new-message")).to_have_attribute("placeholder", "请输入您的问题…")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert page.evaluate("typeof window.WebChat.default") == "function"
    screenshot(page, "chat-zh")
    # the widget came from this server, and it tries Rasa's socket.io at the configured URL
    assert service.chat_url + "/static/vendor/rasa-webchat/webchat.js" in requested
    page.wait_for_event("request", predicate=lambda r: "/socket.io/" in r.url)
    socket_calls = [u for u in requested if "/socket.io/" in u]
    assert socket_calls and all(urlsplit(u).hostname == "127.0.0.1" for u in socket_calls)
    assert all(urlsplit(u).hostname in LOCAL_HOSTS for u in requested if u.startswith("http"))

    page.get_by_role("button", name="English").click()
    expect(page.locator(".rw-title")).to_have_text("Customer service")
    expect(page.locator(".rw-header")).to_contain_text("Hello, how can we help you?")
    expect(page.locator(".rw-new-message")).to_have_attribute("placeholder", "Type your question…")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "true")
    screenshot(page, "chat-en")
    page.get_by_role("button", name="中文").click()
    expect(page.locator(".rw-title")).to_have_text("在线客服")
    assert guard.external == []

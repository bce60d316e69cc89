"""Attacks from a page in the customer's browser (headless Chromium against the stack `make run`
starts): the chat page's script cannot use an agent's console session, and a Markdown link an agent
(or a customer's text quoted by anyone) sends never becomes a link in the widget."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.security.stack import MakeRun, http

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"]
PASSWORD = "a-long-enough-password"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_chat(page: Page, stack: MakeRun) -> None:
    page.goto(stack.chat + "/chat")
    expect(page.locator(".rw-response .rw-message-text").first).to_be_visible(timeout=60_000)


def test_the_chat_pages_script_cannot_use_a_console_session(stack: MakeRun, browser: Browser) -> None:
    stack.cli("create-user", "mia", "--role", "agent", "--team", "l1", "--password-stdin", stdin=PASSWORD + "\n")
    context = browser.new_context()
    try:
        console = context.new_page()
        console.goto(stack.handoff + "/console")
        logged_in = console.evaluate(
            """async ([u, p]) => (await fetch('/api/auth/login', {method: 'POST',
                 headers: {'Content-Type': 'application/json'}, body: JSON.stringify({username: u, password: p})})).status""",
            ["mia", PASSWORD],
        )
        assert logged_in == 200
        assert console.evaluate("async () => (await fetch('/api/auth/me')).status") == 200

        chat = context.new_page()  # same browser, same cookies: a script on the chat page tries the console's API
        open_chat(chat, stack)
        read = chat.evaluate(
            """async (url) => { try { const r = await fetch(url + '/api/auth/me', {credentials: 'include'});
                 return 'read ' + r.status + ' ' + await r.text(); } catch (e) { return 'blocked'; } }""",
            stack.handoff,
        )
        assert read == "blocked"
        same_origin = chat.evaluate("async () => (await fetch('/api/auth/me')).status")
        assert same_origin == 404  # the chat page's origin has no console API at all
    finally:
        context.close()


def test_an_agents_markdown_link_is_not_a_link_in_the_widget(stack: MakeRun, browser: Browser) -> None:
    stack.cli("create-user", "max", "--role", "agent", "--team", "l1", "--password-stdin", stdin=PASSWORD + "\n")
    token = stack.cli("create-token", "--user", "max").strip()
    auth = {"Authorization": f"Bearer {token}"}
    context = browser.new_context()
    try:
        page = context.new_page()
        open_chat(page, stack)
        box = page.locator(".rw-new-message")
        box.fill("转人工")
        box.press("Enter")
        expect(page.locator(".rw-response .rw-message-text", has_text="人工")).not_to_have_count(0, timeout=60_000)
        session = page.evaluate("JSON.parse(window.sessionStorage.getItem('chat_session') || '{}').session_id")
        case = stack.queued_case(token, str(session).split(".")[0])
        assert http(stack.handoff + f"/api/cases/{case['id']}/accept", b"{}", auth, method="POST")[0] == 200
        text = "您好，请点 [退款入口](https://evil.example/pay) 办理 **加急**"
        status, sent = http(stack.handoff + f"/api/cases/{case['id']}/messages", {"text": text}, auth, method="POST")
        assert status in (200, 201), sent
        reply = page.locator(".rw-response .rw-message-text", has_text="退款入口")
        expect(reply).to_have_count(1, timeout=60_000)
        assert page.locator('.rw-response a[href*="evil.example"]').count() == 0
        assert page.locator(".rw-response strong, .rw-response em").count() == 0
        assert "evil.example/pay" in reply.inner_text()  # the words arrive, as words
    finally:
        context.close()

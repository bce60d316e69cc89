"""Personal data is masked in logs."""

from __future__ import annotations

import logging

import pytest

from handoff_service.core.pii import MaskingFilter, mask


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("call me on 13812345678", "call me on 138****5678"),
        ("+86 13912345678", "+86 139****5678"),
        ("身份证 11010519491231002X 谢谢", "身份证 110105********002X 谢谢"),
        ("card 6222021234567890123", "card 6222 **** **** 0123"),
        ("card 6222 0212 3456 7890", "card 6222 **** **** 7890"),
        ("mail zhang.san@example.com.cn", "mail z***@example.com.cn"),
        ("order A123456 and case C20261124-0007", "order A123456 and case C20261124-0007"),
    ],
)
def test_mask(raw, masked):
    assert mask(raw) == masked


def test_filter_masks_args_and_tracebacks(caplog):
    log = logging.getLogger("handoff_service.test_pii")
    caplog.handler.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO):
        log.info("customer %s wrote from %s", "13812345678", "a.b@example.org")
        try:
            raise ValueError("bad id 11010519491231002X")
        except ValueError:
            log.exception("failed")
    text = caplog.text
    assert "13812345678" not in text and "138****5678" in text
    assert "a.b@example.org" not in text
    assert "11010519491231002X" not in text and "110105********002X" in text


async def test_service_error_log_is_masked(h, caplog, monkeypatch):
    """An unexpected error while handling a message with personal data logs it masked."""
    import handoff_service.cases.intake as cases_mod
    import handoff_service.core.pii as pii

    async def boom(*a, **kw):
        raise RuntimeError("cannot store 13812345678")

    monkeypatch.setattr(cases_mod, "append_event", boom)
    caplog.handler.addFilter(pii.MaskingFilter())
    with caplog.at_level(logging.ERROR):
        status, _ = await h.post(
            "/api/bot/cases", h.bot, {"channel": "w", "conversation_id": "c", "language": "en", "category": "x"}
        )
    assert status == 500
    assert "13812345678" not in caplog.text and "138****5678" in caplog.text

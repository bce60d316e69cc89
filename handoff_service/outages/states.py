"""The outage notices' vocabulary: statuses, the transitions an update may make, and the topics a
notice may affect (served to the console by GET /api/outages/vocabulary)."""

from __future__ import annotations

INVESTIGATING = "investigating"  # something is wrong, the cause is not known yet
IDENTIFIED = "identified"  # the cause is known, a fix is under way
MONITORING = "monitoring"  # a fix is in place, being watched
RESOLVED = "resolved"  # service is back: final, with a short review
STATUSES = (INVESTIGATING, IDENTIFIED, MONITORING, RESOLVED)
IN_FORCE = (INVESTIGATING, IDENTIFIED, MONITORING)

# status now -> what an update may set (the same status: a progress update). Resolving needs the
# review, so it has its own route; a fix that did not hold goes back from monitoring to identified.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    INVESTIGATING: (INVESTIGATING, IDENTIFIED, MONITORING),
    IDENTIFIED: (IDENTIFIED, MONITORING),
    MONITORING: (MONITORING, IDENTIFIED),
    RESOLVED: (),
}
RESOLVABLE = IN_FORCE  # where the resolve route may be used

# what customers are told about: a change of status or of the expected recovery time, and always
# the resolution (an update that changes neither is kept for staff only)
NOTIFY_ON = ("status", "expected_recovery_at")

# topics a notice may affect, with the names shown to staff (zh first); the bot maps what a
# customer asks about to these (actions/outages.py)
TOPICS: dict[str, dict[str, str]] = {
    "payment": {"zh": "支付", "en": "Payment"},
    "refund": {"zh": "退款", "en": "Refunds"},
    "delivery": {"zh": "配送", "en": "Delivery"},
    "order": {"zh": "订单", "en": "Orders"},
    "login": {"zh": "登录与账户", "en": "Login and accounts"},
    "app": {"zh": "App 与网站", "en": "App and website"},
    "invoice": {"zh": "发票", "en": "Invoices"},
    "customer_service": {"zh": "客服渠道", "en": "Customer service channels"},
}
STATUS_LABELS: dict[str, dict[str, str]] = {
    INVESTIGATING: {"zh": "正在排查", "en": "Investigating"},
    IDENTIFIED: {"zh": "已找到原因，正在修复", "en": "Cause identified, fix in progress"},
    MONITORING: {"zh": "已修复，正在观察", "en": "Fixed, being monitored"},
    RESOLVED: {"zh": "已恢复", "en": "Resolved"},
}

# what a customer's message to an affected conversation says (the standard's phrasing); the values
# are filled in and made inert (delivery.service.inert) before they are sent
MESSAGES: dict[str, dict[str, str]] = {
    "update": {
        "zh": (
            "【服务中断通知】您好，关于“{title}”：{status}。最新进展：{message} "
            "预计恢复时间：{eta}。给您带来不便，非常抱歉，感谢您的理解。"
        ),
        "en": (
            'Service notice about "{title}": {status}. Latest update: {message} '
            "Expected recovery: {eta}. We are sorry for the inconvenience. Thank you for your understanding."
        ),
    },
    "resolved": {
        "zh": "【服务恢复通知】您好，“{title}”已恢复正常。{message} 给您带来不便，非常抱歉，感谢您的理解。",
        "en": (
            'Service restored: "{title}" is working normally again. {message} '
            "We are sorry for the inconvenience. Thank you for your understanding."
        ),
    },
}
ETA_UNKNOWN = {"zh": "暂未确定，我们会及时通知您", "en": "not known yet; we will keep you informed"}

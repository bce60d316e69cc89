"""What demo history looks like: arrival pattern by hour and weekday, the mix of channels,
languages, categories and tiers, and the words said (Chinese and English)."""

from __future__ import annotations

# arrivals per hour of the day (service zone): quiet nights, a morning and an afternoon peak,
# the busiest evenings
HOUR_WEIGHTS = (
    0.35, 0.18, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.7, 1.0, 1.2, 1.2,
    0.9, 1.0, 1.2, 1.2, 1.1, 1.0, 1.05, 1.45, 1.65, 1.5, 1.0, 0.6,
)  # fmt: skip
# Monday .. Sunday: quieter weekends
WEEKDAY_WEIGHTS = (1.05, 1.0, 1.0, 1.0, 1.1, 0.7, 0.6)
CASES_PER_WEEK = 400  # default volume (--cases overrides)

# how much a case says (--detail): "standard" ≈ 9 timeline entries and 3.6 messages a case,
# "full" ≈ 11 and 5 (longer chats, the agents' private notes, the bot's corrections)
STANDARD, FULL = "standard", "full"
DETAILS = (STANDARD, FULL)
ROUNDS = {STANDARD: (1, 4), FULL: (2, 5)}  # agent reply + customer answer, per stretch of work
NOTE_SHARE = 0.45  # full: chance of a private note after each round
RECLASSIFIED_SHARE = 0.25  # full: the bot's first category was wrong and it corrects it

CHANNELS = (("socketio", 0.75), ("callback", 0.25))
LANGUAGES = (("zh", 0.75), ("en", 0.25))
TIERS = (("critical", 0.05), ("high", 0.2), ("normal", 0.75))
CATEGORIES = (
    ("refund", 0.18),
    ("order_status", 0.2),
    ("return_exchange", 0.12),
    ("payment_issue", 0.1),
    ("account_issue", 0.08),
    ("product_inquiry", 0.1),
    ("invoice", 0.05),
    ("complain", 0.1),
    ("cancel_order", 0.04),
    ("modify_order", 0.03),
)
HANDOFF_SHARE = {"complain": 0.85, "payment_issue": 0.7, "refund": 0.65}
DEFAULT_HANDOFF_SHARE = 0.5
TEAMS = ("demo-aftersales", "demo-billing", "demo-general")  # more teams: demo-team-4, ...
AGENTS = 12
SHIFT = (8, 23)  # local hours agents are on the queue (demo assumption)

PROBLEMS = {
    "zh": {
        "refund": "退款申请后一直没有到账",
        "order_status": "订单显示已发货但三天没有物流更新",
        "return_exchange": "收到的商品尺码不对，想换货",
        "payment_issue": "付款时被扣了两次钱",
        "account_issue": "收不到登录验证码",
        "product_inquiry": "想了解这款耳机是否支持降噪",
        "invoice": "需要开具增值税专用发票",
        "complain": "配送员态度很差，包裹也被压坏了",
        "cancel_order": "下错单了，想取消订单",
        "modify_order": "想修改收货地址",
    },
    "en": {
        "refund": "My refund has not arrived yet",
        "order_status": "The order shows shipped but no tracking update for three days",
        "return_exchange": "Wrong size delivered, I would like an exchange",
        "payment_issue": "I was charged twice for one order",
        "account_issue": "I do not receive the login verification code",
        "product_inquiry": "Does this headset support noise cancelling?",
        "invoice": "I need a VAT invoice",
        "complain": "The courier was rude and the parcel was crushed",
        "cancel_order": "I ordered by mistake and want to cancel",
        "modify_order": "I need to change the delivery address",
    },
}
CUSTOMER_LINES = {
    "zh": ("请尽快帮我处理，谢谢", "订单号是 A20261188", "已经等了好几天了", "好的", "明白了，那什么时候能处理好？", "可以"),
    "en": ("Please help me soon, thanks", "The order number is A20261188", "I have waited for days", "OK",
           "I see, when will it be done?", "Sure"),
}  # fmt: skip
AGENT_LINES = {
    "zh": ("您好，很高兴为您服务，请稍等，我马上为您查询。", "明白，已经为您核实了订单信息。",
           "感谢您的理解，我们会在 24 小时内给您答复。", "已为您提交处理，请留意短信通知。", "请问还有其他可以帮您的吗？"),
    "en": ("Hello, happy to help. One moment, please, I am checking.", "Understood, I have checked your order.",
           "Thank you for your understanding; you will hear from us within 24 hours.",
           "It is submitted; you will get a text message.", "Is there anything else I can help with?"),
}  # fmt: skip
RESULTS = {
    "zh": ("已为您办理退款，预计 1-3 个工作日到账", "已补发商品并提供快递单号", "已重置账户验证", "已开具发票并发送至邮箱", "已解答产品问题"),
    "en": ("Refund issued, 1-3 working days", "Replacement sent with tracking number", "Account verification reset",
           "Invoice issued and e-mailed", "Product question answered"),
}  # fmt: skip
NOTES = {
    "zh": ("客户情绪较激动，已安抚", "已联系仓库核实库存", "等待财务确认退款流水", "客户要求电话回访",
           "物流单号已核对，包裹在转运中", "已申请补偿优惠券"),
    "en": ("Customer upset, calmed down", "Asked the warehouse to check the stock", "Waiting for finance to confirm the refund",
           "Customer asks for a phone call back", "Tracking number checked, parcel in transit", "Coupon requested as a goodwill gesture"),
}  # fmt: skip
BOT_RESULTS = {"zh": "机器人已解答", "en": "Answered by the assistant"}
CSAT_COMMENTS = {"zh": ("服务很好", "处理太慢了", "谢谢客服"), "en": ("Great service", "Too slow", "Thanks")}
EMOTIONS = ("calm", "upset", "angry")

"""The metric dictionary (served at GET /api/metrics/dictionary; METRICS.md says the same in
prose, with the edge cases) and the dashboard's vocabularies: cards, buckets, export tables."""

from __future__ import annotations

from typing import Any

COUNT, SECONDS, RATIO, SCORE = "count", "seconds", "ratio", "score"
UNITS = (COUNT, SECONDS, RATIO, SCORE)


def _m(key: str, unit: str, zh: str, en: str, def_zh: str, def_en: str) -> dict[str, Any]:
    return {"key": key, "unit": unit, "label": {"zh": zh, "en": en}, "definition": {"zh": def_zh, "en": def_en}}


METRICS: list[dict[str, Any]] = [
    _m("cases_new", COUNT, "新建案件", "New cases", "统计期内创建的案件数。", "Cases opened in the period."),
    _m(
        "cases_resolved",
        COUNT,
        "已解决案件",
        "Resolved cases",
        "统计期内至少解决一次的案件数（唯一案件）；events 为解决次数。",
        "Cases resolved at least once in the period (unique cases); events = resolutions.",
    ),
    _m(
        "cases_reopened",
        COUNT,
        "重新打开案件",
        "Reopened cases",
        "统计期内被重新打开的案件数（含回访未解决）；events 为重开次数。",
        "Cases reopened in the period (including 'not solved' follow-ups); events = reopens.",
    ),
    _m(
        "backlog",
        COUNT,
        "积压案件",
        "Backlog",
        "统计期末仍未解决的案件数（有一个未结束的服务周期）。",
        "Cases with an unfinished care cycle at the end of the period.",
    ),
    _m(
        "handoff_rate",
        RATIO,
        "转人工率",
        "Handoff rate",
        "统计期内新建案件中请求转人工的比例。",
        "Share of the period's new cases that were handed off to a human.",
    ),
    _m(
        "containment",
        RATIO,
        "机器人独立解决率",
        "Bot containment",
        "统计期内开始且已结束的客户接触（同一会话中间隔不足24小时的消息）中，直到最后一条消息后24小时仍未转人工的比例。",
        "Finished customer contacts (a conversation's messages less than 24 h apart) started in the "
        "period with no handoff until 24 h after their last message, over all finished contacts.",
    ),
    _m(
        "fallback_rate",
        RATIO,
        "未理解率",
        "Fallback rate",
        "统计期所在各周内，机器人未理解的客户消息占全部客户消息的比例（按周统计，仅按语言筛选）。",
        "Fallbacks over customer messages the bot answered, in the weeks (Monday, service zone) "
        "overlapping the period; only the language filter applies.",
    ),
    _m(
        "claim_time",
        SECONDS,
        "接入时长",
        "Claim time",
        "从转人工到坐席接入的时长（按案件创建时间归入统计期）。",
        "Handoff to the first accept, per case opened in the period.",
    ),
    _m(
        "first_response",
        SECONDS,
        "人工首次响应时长",
        "Human first response time",
        "从转人工到坐席第一条回复的时长，不含机器人处理时间。",
        "Handoff to the first agent reply, per case opened in the period; bot time never counts.",
    ),
    _m(
        "reply_time",
        SECONDS,
        "回复时长",
        "Reply time",
        "坐席处理期间客户每次等待：客户消息到下一条坐席回复（按等待开始时间归入统计期）。",
        "Each customer wait: a customer message relayed while an agent holds the case, to the next "
        "agent reply; attributed to the wait's start.",
    ),
    _m(
        "resolution_time",
        SECONDS,
        "解决时长",
        "Resolution time",
        "每个服务周期从开始（创建或重开）到解决的时长，按解决时间归入统计期。",
        "Per care cycle, from its start (opening or reopen) to its resolution; attributed to the resolution.",
    ),
    _m(
        "sla_first_response",
        RATIO,
        "首次响应达标率",
        "SLA attainment: first response",
        "已判定的首次响应时限中达标的比例（按等级）。",
        "Met over decided (met + breached) first-response deadlines.",
    ),
    _m(
        "sla_result",
        RATIO,
        "处理结果达标率",
        "SLA attainment: result",
        "已判定的处理结果时限中达标的比例；任一周期超时即为超时。",
        "Met over decided result deadlines; a breach in any care cycle counts as breached.",
    ),
    _m(
        "sla_follow_up",
        RATIO,
        "回访达标率",
        "SLA attainment: follow-up",
        "已判定的回访时限中达标的比例。",
        "Met over decided follow-up deadlines.",
    ),
    _m(
        "reopen_rate",
        RATIO,
        "重开率",
        "Reopen rate",
        "统计期内新建且已解决的案件中被重新打开（含回访未解决）的比例。",
        "Share of the period's new cases resolved at least once that were reopened (incl. 'not solved' follow-ups).",
    ),
    _m(
        "csat_mean",
        SCORE,
        "满意度均分",
        "CSAT mean",
        "统计期内新建案件的总体满意度（1–5）平均分。",
        "Mean overall rating (1-5) of the period's new cases.",
    ),
    _m(
        "csat_share_4_5",
        RATIO,
        "满意率（4–5分）",
        "CSAT share 4-5",
        "评分为4或5的比例。",
        "Share of ratings that are 4 or 5.",
    ),
    _m(
        "csat_response_rate",
        RATIO,
        "评价率",
        "CSAT response rate",
        "已解决案件中有评价的比例。",
        "Rated cases over the period's new cases resolved at least once.",
    ),
    _m("csat_attitude", SCORE, "服务态度", "CSAT: attitude", "服务态度维度平均分。", "Mean attitude rating."),
    _m("csat_speed", SCORE, "服务效率", "CSAT: speed", "服务效率维度平均分。", "Mean speed rating."),
    _m("csat_solved", SCORE, "问题是否解决", "CSAT: solved", "问题解决维度平均分。", "Mean 'problem solved' rating."),
    _m(
        "category_share",
        RATIO,
        "投诉类别占比",
        "Complaint category share",
        "统计期内新建案件按类别的数量与占比。",
        "The period's new cases per category and their share.",
    ),
    _m(
        "follow_up_completion",
        RATIO,
        "回访完成率",
        "Follow-up completion",
        "已结束的回访中客户作答（已解决或未解决）的比例。",
        "Answered visits (solved or not solved) over finished ones (answered + no answer).",
    ),
]
BY_KEY = {m["key"]: m for m in METRICS}

# dashboard cards: card key -> dictionary key
CARDS: dict[str, str] = {
    "cases_new": "cases_new",
    "cases_resolved": "cases_resolved",
    "cases_reopened": "cases_reopened",
    "backlog": "backlog",
    "handoff_rate": "handoff_rate",
    "containment": "containment",
    "fallback_rate": "fallback_rate",
    "claim_time_p50": "claim_time",
    "first_response_p50": "first_response",
    "reply_time_p50": "reply_time",
    "resolution_time_p50": "resolution_time",
    "sla_first_response": "sla_first_response",
    "sla_result": "sla_result",
    "sla_follow_up": "sla_follow_up",
    "reopen_rate": "reopen_rate",
    "csat_mean": "csat_mean",
    "csat_share_4_5": "csat_share_4_5",
    "csat_response_rate": "csat_response_rate",
    "follow_up_completion": "follow_up_completion",
}
TIMES = ("claim_time", "first_response", "reply_time", "resolution_time")
# first-response buckets: (label, upper bound in seconds; None = no bound)
BUCKETS: tuple[tuple[str, float | None], ...] = (
    ("0-1h", 3600.0),
    ("1-4h", 4 * 3600.0),
    ("4-8h", 8 * 3600.0),
    ("8-24h", 24 * 3600.0),
    ("24h+", None),
)
GRANULARITIES = ("day", "hour")
EXPORT_TABLES = ("cases", "series", "first_response_buckets", "heatmap", "sla", "csat", "agents", "teams", "categories")
MAX_DAYS = 366
DEFAULT_DAYS = 7

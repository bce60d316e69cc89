"""The whole database schema: every feature's tables on one metadata (for Alembic
and for tests). Features import their own `models` module, never this one."""

from __future__ import annotations

from handoff_service.audit.models import AuditEntry
from handoff_service.cases.models import Case, CaseCounter, CaseEvent
from handoff_service.core.orm import Base
from handoff_service.delivery.models import Delivery
from handoff_service.followups.models import FollowUpVisit
from handoff_service.messages.models import Message
from handoff_service.metrics.models import MetricBlock, MetricCase, MetricCycle, MetricStale, MetricWait
from handoff_service.outages.models import OutageLink, OutageNotice, OutageUpdate
from handoff_service.review.models import (
    ReviewContact,
    ReviewFeed,
    ReviewItem,
    ReviewOccurrence,
    ReviewReport,
    ReviewTraffic,
)
from handoff_service.staff.models import ApiToken, StaffSession, StaffUser
from handoff_service.staffing.models import StaffingPlanHour

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "Case",
    "CaseCounter",
    "CaseEvent",
    "Delivery",
    "FollowUpVisit",
    "Message",
    "MetricBlock",
    "MetricCase",
    "MetricCycle",
    "MetricStale",
    "MetricWait",
    "OutageLink",
    "OutageNotice",
    "OutageUpdate",
    "ReviewContact",
    "ReviewFeed",
    "ReviewItem",
    "ReviewOccurrence",
    "ReviewReport",
    "ReviewTraffic",
    "StaffSession",
    "StaffUser",
    "StaffingPlanHour",
]

"""The review list's tables: one item per normalised text, one occurrence per collected message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from handoff_service.core.orm import Base, BigId, UTCDateTime


class ReviewItem(Base):
    __tablename__ = "review_items"
    __table_args__ = (Index("ix_review_items_status_rank", "status", "rank"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # normalize.group_key
    text: Mapped[str] = mapped_column(Text)  # the latest wording, personal data masked
    language: Mapped[str | None] = mapped_column(String(8))
    script: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12))  # states.STATUSES
    reasons: Mapped[list[str]] = mapped_column(JSON)  # every reason seen, states.REASONS
    reason_bits: Mapped[int] = mapped_column(Integer)  # the same as bits (states.REASON_BITS), for filters
    top_intent: Mapped[str | None] = mapped_column(String(128))  # of the latest occurrence
    top_confidence: Mapped[float | None] = mapped_column(Float)
    intents: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # latest top three: name, confidence
    channel: Mapped[str | None] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer)
    rank: Mapped[float] = mapped_column(Float)  # count x recency, comparable at any time (service.next_rank)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    label: Mapped[str | None] = mapped_column(String(128))
    comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(BigId)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suggested_label: Mapped[str | None] = mapped_column(String(128))  # what an agent said the customer meant


class ReviewOccurrence(Base):
    __tablename__ = "review_occurrences"
    __table_args__ = (Index("ix_review_occurrences_item", "item_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("review_items.id"))
    source: Mapped[str] = mapped_column(String(200), unique=True)  # where it came from: collected once
    conversation_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)  # masked
    reasons: Mapped[list[str]] = mapped_column(JSON)
    intents: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    channel: Mapped[str | None] = mapped_column(String(32))


class ReviewFeed(Base):
    """How far an importer has read: the tracker store's last event id, or the last low-rated case."""

    __tablename__ = "review_feed"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewTraffic(Base):
    """Customer messages the bot answered, and how many with the fallback, per week and language."""

    __tablename__ = "review_traffic"

    week: Mapped[str] = mapped_column(String(10), primary_key=True)  # the Monday, service zone, ISO date
    language: Mapped[str] = mapped_column(String(8), primary_key=True)  # "?" when not told
    messages: Mapped[int] = mapped_column(Integer)
    fallbacks: Mapped[int] = mapped_column(Integer)


class ReviewContact(Base):
    """A customer's contact: a conversation's customer messages (as the feed reads them from Rasa's
    tracker store) with less than `records.CONTACT_GAP` between them; a later message starts a new
    contact. The KPI dashboard counts bot containment over these (metrics/)."""

    __tablename__ = "review_contacts"
    __table_args__ = (
        Index("ix_review_contacts_conversation", "conversation_id", "last_at"),
        Index("ix_review_contacts_started", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(8))
    channel: Mapped[str | None] = mapped_column(String(32))
    messages: Mapped[int] = mapped_column(Integer)


class ReviewReport(Base):
    """An evaluation report a trainer published: the new model against the previous one."""

    __tablename__ = "review_reports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int] = mapped_column(BigId)
    title: Mapped[str] = mapped_column(String(200))  # which models
    passed: Mapped[bool] = mapped_column(Boolean)  # the gate's verdict
    markdown: Mapped[str] = mapped_column(Text)  # shown as text in the console, never as HTML

"""Outage notices (服务中断, SPEC §7): supervisors publish them with append-only updates, the bot
tells customers who ask or whose topic is affected, and customers with an open linked case are
told of every status change and of the resolution through the delivery outbox."""

"""Notifications to the on-call lead (apprise), exactly once across hosts.

- ``receivers``: where messages go (an apprise URL each) and which ones; leads manage them.
- ``messages``: the words of each message, in the receiver's time zone (pure).
- ``outbox``: a message is a row written in the transaction of the event that causes it
  (an escalation), or by the sweep that notices it (a breach, a forecast, a late status
  update; ``detect``), under a unique key, so nothing is enqueued twice.
- ``deliver``: deliverers (``notify --follow``, every ``sweep``) claim one row at a time,
  send it through apprise (``send``), mark it sent, retry with back-off, or give up and
  show it as failed.
"""

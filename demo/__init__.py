"""The demo and end-to-end harness: a local AWS stand-in (moto server), a local Slack webhook, a seeded
account, scenarios played through the real Lambda handlers, and what they produce shown as Slack would.

Not part of the Lambda bundle (infra/packaging.py ships shared/ and functions/ only).
"""

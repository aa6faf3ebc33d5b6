"""Talking to the fine-tuning API: the client (on the openai SDK), the requests in flight and
their throttle, and the engine of `ftjobs sync` (github-to-sqlite's fetch/save split: fetch.py
reads what the API has of a job, the store saves it)."""

"""ftjobs: a local, trustworthy record of OpenAI fine-tuning jobs in SQLite."""

__version__ = "0.1.0"

"""The fine-tuning API's objects and the rules about them: jobs, events, checkpoints, result
files and metrics as data, and what a person may do to a job. No SQLite, HTTP or terminal here:
every other layer builds on these."""

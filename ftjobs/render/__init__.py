"""Output: Rich on a terminal, plain tab-separated text when piped, JSON as the API writes it.

output.py chooses which (choose_output) and holds the console and the writers every command
shares; text.py turns values into cells, tables.py fits tables to the terminal; then one module
per thing shown: jobs, transfer (import's progress and report), events, checkpoints, metrics
and charts, insights, resources, sync, diff."""

"""Output: Rich on a terminal, plain tab-separated text when piped, JSON as the API writes it.
One module per thing shown (jobs, history, insights, resources, sync, diff)."""

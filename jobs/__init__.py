"""The scheduler process: a declarative job table, the job-session wrapper and the job functions."""

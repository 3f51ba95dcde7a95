"""The conntrack cleanup flow: find stale entries, ask, delete only them, count before and after."""

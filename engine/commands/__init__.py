"""The ``runbooks`` subcommands other than ``up``: catalog, fire, and the simulated cluster."""

"""ledger-xl: a government task ledger (重点任务台账) run through Excel and Word."""

__version__ = "0.1.0"

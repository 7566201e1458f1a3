"""Analyses of runs: summaries, ensembles, sensitivity, optimisation, backtests."""

"""Shared code of the contract suite: target, client, rules, model, scenarios."""

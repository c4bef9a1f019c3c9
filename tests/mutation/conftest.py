"""The mutation tests run the whole contract suite once per variant of the mock: minutes in all.

They carry the `mutation` marker (registered here) and are deselected unless `--run-mutants` is
given (an option of tests/conftest.py), e.g. `python -m pytest tests/mutation --run-mutants`.
"""

from __future__ import annotations

from opt_in import opt_in

pytest_configure, pytest_collection_modifyitems, pytest_report_collectionfinish = opt_in(
    "mutation", "--run-mutants", "runs the contract suite against a variant of the mock",
    "each runs the contract suite against a variant of the mock", ".venv/bin/python -m pytest tests/mutation --run-mutants",
)

"""`python -m contract_4hse run ...` (installed), `python -m tests.contract run ...` (a checkout)."""

from .cli import main

raise SystemExit(main())

"""Unit tests: the core on fakes, no servers."""

import os


def examples(n: int) -> int:
    """Examples per property test: a tenth under scripts/mutation.sh (HRVIZ_MUTATION=1), which reruns the tests for
    every mutant; the tables and known answers do the killing there, the full count runs in the ordinary suite."""
    return max(20, n // 10) if os.environ.get("HRVIZ_MUTATION") == "1" else n

"""Rewriting: combinators (engine) and the simplifier's rule catalog (simplify)."""

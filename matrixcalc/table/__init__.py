"""Identity tables (SPEC section 6): YAML reading, loading and verifying, user functions."""

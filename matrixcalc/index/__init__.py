"""Index (Einstein) notation: the form in which the engine differentiates."""

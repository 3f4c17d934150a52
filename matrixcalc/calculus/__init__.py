"""Derivatives: the index-form engine (diff), derive/jacobian/hessian, jvp/vjp/hvp,
results of order 3 and 4, and explanations."""

"""Outputs: generated code (numpy, torch, JAX), torch.autograd.Function, shared
subexpressions, SymPy interop and the JSON objects of the CLI and the web API."""

"""The local web page of `matrixcalc serve` (SPEC section 7): a Starlette app (app.py)
served by uvicorn (server.py), computing in worker processes with time and memory limits
(pool.py, compute.py). Imported only by the `serve` command: `import matrixcalc` never
loads Starlette, uvicorn or latex2mathml.
"""

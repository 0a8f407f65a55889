"""The HTTP API: FastAPI app, authentication, routes. Thin: parse, authorise, call, render."""

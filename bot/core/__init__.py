"""The pure, synchronous core: knowledge base, matcher, answers, renderers.

Nothing here does I/O after loading or knows about Telegram, so every front end and the
benchmarks exercise exactly the same code.
"""

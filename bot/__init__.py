"""regenbot: cited answers about PRP, MSC secretome and exosomes for aging skin.

Where a question becomes an answer: ``bot.pipeline.Pipeline.ask`` (normalise -> match ->
resolve follow-up -> compose -> log). The pure core lives in ``bot.core``; front ends
(``bot.cli``, ``bot.telegram``) only call the pipeline.
"""

__version__ = "0.1.0"

"""The Telegram front end: a thin python-telegram-bot layer over bot.pipeline.

Only this package imports ``telegram``. ``app.build_application`` registers every
handler in one ordered list; each module here owns one concern.
"""

"""Whatever a user types, the pipeline answers with valid Telegram HTML."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.render import TELEGRAM_LIMIT
from bot.pipeline import Pipeline
from tests.support.telegram_html import parse_html, utf16_len

PIPELINE = Pipeline.from_directory()

mixed = st.one_of(
    st.text(max_size=10_000),
    st.text(alphabet=st.sampled_from(list("<>&;/\"' abcPRPexosomβ’“”\n\t0123456789")), max_size=2_000),
    st.lists(
        st.sampled_from(["PRP", "exosomes", "safe", "<b>", "&", "vs", "ref", "12", "and", "😀", "\u0000"]), max_size=300
    ).map(" ".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mixed, follow=st.booleans())
def test_any_text_yields_valid_telegram_html(text, follow):
    conversation = "prop" if follow else object()
    reply = PIPELINE.ask(text, conversation=conversation)
    messages = reply.html()
    assert messages
    for message in messages:
        plain = parse_html(message)
        assert 0 < utf16_len(plain) <= TELEGRAM_LIMIT
        assert utf16_len(message) <= TELEGRAM_LIMIT
    assert 0 <= reply.answer.score <= 100

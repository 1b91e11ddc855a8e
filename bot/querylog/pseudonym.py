"""Pseudonymous user ids that cannot be reversed from the database alone.

Telegram ids are short numbers: hashing them without a secret (or with the secret stored
in the same database) lets anyone with the file hash every plausible id and match. We
use HMAC-SHA256 with a key that never enters the database: from REGENBOT_PSEUDONYM_KEY,
or a key file (default ~/.config/regenbot/pseudonym.key) generated once with mode 0600.
Losing the key only means old and new pseudonyms no longer link up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)


def load_or_create_key(path: Path) -> bytes:
    """Read the key file, creating it (0600) on first use."""
    try:
        key = path.read_bytes().strip()
        if len(key) >= 32:
            return key
        log.warning("pseudonym key file %s is too short; generating a new key", path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n")
    os.chmod(path, 0o600)
    log.info("generated a new pseudonym key at %s", path)
    return key


class Pseudonymizer:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("pseudonym key must be at least 32 bytes")
        self._key = key

    def __call__(self, user: str | int | None) -> str | None:
        if user is None:
            return None
        digest = hmac.new(self._key, str(user).encode(), hashlib.sha256).hexdigest()
        return digest[:20]

    def seal(self, text: str) -> str:
        """Encrypt ``text`` with the pseudonym key, so the database alone cannot read it.

        For the one place the bot must find a person again (the asker of a question
        relayed to the maintainers): the log holds this token, never a Telegram id.
        HMAC-SHA256 as a keystream (counter mode) with a random nonce, then a tag over both.
        """
        nonce = secrets.token_bytes(16)
        data = text.encode()
        body = bytes(a ^ b for a, b in zip(data, self._stream(nonce, len(data)), strict=True))
        tag = hmac.new(self._key, b"tag" + nonce + body, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(nonce + body + tag).decode().rstrip("=")

    def unseal(self, token: str) -> str | None:
        """The text sealed in ``token``, or None if it was made with another key or altered."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            return None
        if len(raw) < 32:
            return None
        nonce, body, tag = raw[:16], raw[16:-16], raw[-16:]
        expected = hmac.new(self._key, b"tag" + nonce + body, hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(tag, expected):
            return None
        return bytes(a ^ b for a, b in zip(body, self._stream(nonce, len(body)), strict=True)).decode(errors="replace")

    def _stream(self, nonce: bytes, size: int) -> bytes:
        blocks = []
        for counter in range((size + 31) // 32):
            blocks.append(hmac.new(self._key, b"seal" + nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest())
        return b"".join(blocks)[:size]

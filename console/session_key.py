"""The key that signs the console's session cookies: read from a file, or generated.

Every console process of a deployment must share it (a cookie signed by one is checked
by another), so it lives in a file like the receipt key, written 0600.
"""

import os
import secrets
from pathlib import Path

# 32 bytes: HMAC-SHA1 (itsdangerous' default) wants a key of at least its output size,
# RFC 2104 §3; more costs nothing.
_KEY_BYTES = 32


def load_or_create_session_key(path: Path) -> str:
    """The key in ``path``; a new random one written there first when the file is absent."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(_KEY_BYTES))
    return path.read_text().strip()

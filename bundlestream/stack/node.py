"""The npm packages of the stack (arlocal, s3rver, and the clients tests drive).

``npm ci`` installs exactly ``stack/node/package-lock.json`` into
``stack/node/node_modules``; a digest of the lock file recorded after success makes a
second run skip it. A file lock keeps two stacks starting at once from racing.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil

from bundlestream.stack.process import ServiceError, run_checked
from bundlestream.stack.service import STACK_FILES

NODE_DIR = STACK_FILES / "node"
MODULES = NODE_DIR / "node_modules"
INSTALLED_MARK = MODULES / ".bundlestream-lock.sha256"


def install_node_packages() -> None:
    """Run ``npm ci`` unless node_modules already matches the lock file."""
    if _installed():
        return
    if shutil.which("npm") is None:
        raise ServiceError("npm is missing: apt-get install -y nodejs npm (Node 20)")
    with (NODE_DIR / ".npm-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed():
            return
        run_checked(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR)
        INSTALLED_MARK.write_text(_lock_digest())


def _installed() -> bool:
    return INSTALLED_MARK.exists() and INSTALLED_MARK.read_text() == _lock_digest()


def _lock_digest() -> str:
    return hashlib.sha256((NODE_DIR / "package-lock.json").read_bytes()).hexdigest()

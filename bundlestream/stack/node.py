"""The npm packages of the stack (arlocal, s3rver, and the clients tests drive).

``npm ci`` installs exactly ``stack/node/package-lock.json``, once per lock file and
machine, into ``<cache_dir>/node-<lock digest>/``; ``stack/node/node_modules`` is a
link to it, so every clone reuses that install (arlocal's sqlite3 compiles from source
for minutes). A file lock keeps two stacks starting at once from racing.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
from pathlib import Path

from bundlestream.stack.process import ServiceError, run_checked
from bundlestream.stack.service import STACK_FILES

NODE_DIR = STACK_FILES / "node"
MODULES = NODE_DIR / "node_modules"
LOCK_FILE = NODE_DIR / "package-lock.json"
# Written into a node_modules directory after a successful install: the lock's digest.
INSTALLED_MARK = ".bundlestream-lock.sha256"


def install_node_packages(cache_dir: Path) -> None:
    """Make ``stack/node/node_modules`` match the lock file, installing only if needed.

    A node_modules directory installed in place that already matches is kept as it is.
    """
    digest = _lock_digest()
    if _matches(MODULES, digest) and not MODULES.is_symlink():
        return
    target = cache_dir / f"node-{digest[:16]}"
    if not _matches(target / "node_modules", digest):
        _install_into(target, digest)
    _link(MODULES, target / "node_modules")


def _install_into(target: Path, digest: str) -> None:
    if shutil.which("npm") is None:
        raise ServiceError("npm is missing: apt-get install -y nodejs npm (Node 20)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / ".node-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _matches(target / "node_modules", digest):
            return  # another stack installed it while we waited
        shutil.rmtree(target, ignore_errors=True)  # an interrupted earlier attempt
        target.mkdir()
        shutil.copy2(NODE_DIR / "package.json", target)
        shutil.copy2(LOCK_FILE, target)
        run_checked(["npm", "ci", "--no-audit", "--no-fund"], cwd=target)
        (target / "node_modules" / INSTALLED_MARK).write_text(digest)


def _link(link: Path, target: Path) -> None:
    """Point ``link`` at ``target``, replacing an older link or install atomically."""
    if link.is_symlink() and link.resolve() == target.resolve():
        return
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)  # an in-place install of another lock file
    staged = link.with_name(f".{link.name}.{os.getpid()}")
    staged.unlink(missing_ok=True)
    staged.symlink_to(target)
    os.replace(staged, link)


def _matches(modules: Path, digest: str) -> bool:
    mark = modules / INSTALLED_MARK
    return mark.exists() and mark.read_text() == digest


def _lock_digest() -> str:
    return hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()

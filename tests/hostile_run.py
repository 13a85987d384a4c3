"""Run ``python -m scorer`` in a child process under a hostile condition: a file size limit
(RLIMIT_FSIZE, so every write past N bytes fails as on a full disk: EFBIG; Python ignores
SIGXFSZ), for tests of what scorer does when it cannot write."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def scorer_child(
    *args: str,
    fsize: int | None = None,
    memory: int | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``scorer ARGS`` with this worktree's package; every file it writes is cut at ``fsize``
    bytes (the write fails), and its address space at ``memory`` bytes, when given. A child
    that hangs is killed at ``timeout`` (subprocess.TimeoutExpired)."""

    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    full_env = dict(os.environ if env is None else env)
    full_env["PYTHONPATH"] = str(ROOT)
    full_env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "scorer", *args],
        capture_output=True,
        text=True,
        env=full_env,
        preexec_fn=limit,
        timeout=timeout,
        check=False,
    )

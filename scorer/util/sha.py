"""SHA-256 without importing hashlib's OpenSSL binding.

``import hashlib`` loads ``_hashlib`` (OpenSSL), ~2 ms of a per-merge run that hashes a
few hundred strings (cache keys, digests, contributor hashes). CPython's built-in module
gives the same digests; hashlib remains the fallback on interpreters without it.
"""

from __future__ import annotations

try:  # CPython 3.12+
    from _sha2 import sha256
except ImportError:  # pragma: no cover - depends on the interpreter
    try:  # CPython 3.10, 3.11
        from _sha256 import sha256
    except ImportError:
        from hashlib import sha256

__all__ = ["sha256"]

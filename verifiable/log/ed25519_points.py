"""Telling a weak Ed25519 public key from a real one.

RFC 8032 verification as OpenSSL (and so ``cryptography``) and the
browsers' WebCrypto do it accepts, under a public key A of small order
(one of the eight points whose multiple by 8 is the identity), the
signature R = identity, S = 0 on *any* message: the check
[8][S]B = [8]R + [8][k]A holds for every k.  Such a key is no one's key —
no seed yields one — but a key string naming one would make every
signature "verify".  A key whose encoding is not canonical (y at or above
p, or x = 0 with the sign bit set) is refused with them: each of those
encodes a small-order point too, and a canonical encoding is what every
real key has.  So :func:`weak_public_key` refuses these keys when a verifier
key string is read, before any signature is checked.

The arithmetic is the curve's own, in affine coordinates with Python's
integers: three doublings per key, read once per key string.
"""

from __future__ import annotations

__all__ = ["weak_public_key"]

_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)

Point = tuple[int, int]
_IDENTITY: Point = (0, 1)


def _decode(encoded: bytes) -> Point | str:
    """The point ``encoded`` names (RFC 8032 §5.1.3), or why it names none."""
    value = int.from_bytes(encoded, "little")
    sign, y = value >> 255, value & ((1 << 255) - 1)
    if y >= _P:
        return "its y coordinate is not reduced (a non-canonical encoding)"
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    if (v * x * x - u) % _P != 0:
        x = x * _SQRT_M1 % _P
        if (v * x * x - u) % _P != 0:
            return "it is not a point on the curve"
    if x == 0 and sign:
        return "x is 0 with the sign bit set (a non-canonical encoding)"
    if x & 1 != sign:
        x = _P - x
    return x, y


def _double(point: Point) -> Point:
    x, y = point
    xy = x * y % _P
    dxy = _D * xy * xy % _P
    x3 = 2 * xy * pow(1 + dxy, _P - 2, _P) % _P
    y3 = (y * y + x * x) * pow(1 - dxy, _P - 2, _P) % _P
    return x3, y3


def weak_public_key(encoded: bytes) -> str | None:
    """Why the 32-byte Ed25519 public key ``encoded`` proves nothing, or
    ``None`` for a key that can: a key of small order, not on the curve, or
    not canonically encoded."""
    point = _decode(encoded)
    if isinstance(point, str):
        return point
    for _ in range(3):
        point = _double(point)
    if point == _IDENTITY:
        return "it is a point of small order, under which any text can be signed"
    return None

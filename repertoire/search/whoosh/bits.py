"""Sets of document numbers as Python integers (bit d set = document d)."""

_BYTE_BITS = tuple(tuple(j for j in range(8) if b >> j & 1) for b in range(256))


def from_docs(docnums) -> int:
    buf = bytearray()
    for d in docnums:
        i = d >> 3
        if i >= len(buf):
            buf.extend(bytes(i + 1 - len(buf)))
        buf[i] |= 1 << (d & 7)
    return int.from_bytes(buf, "little")


def to_bytes(bits: int) -> bytes:
    return bits.to_bytes((bits.bit_length() + 7) // 8, "little")


def iter_docs(bits: int):
    """Document numbers in ``bits``, ascending."""
    for i, byte in enumerate(to_bytes(bits)):
        if byte:
            base = i << 3
            for j in _BYTE_BITS[byte]:
                yield base + j


def contains(raw: bytes, d: int) -> bool:
    i = d >> 3
    return i < len(raw) and bool(raw[i] >> (d & 7) & 1)

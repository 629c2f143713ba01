"""Decompression with a ceiling on the output, so a small gzip or deflate bomb stays small (pure).

httpx decompresses response bodies without any limit; feedparser does not gunzip at all. Both
paths come through here instead.
"""

from __future__ import annotations

import zlib

GZIP_MAGIC = b"\x1f\x8b"
SUPPORTED_ENCODINGS = ("gzip", "x-gzip", "deflate", "identity")


class TooLarge(ValueError):
    """The decompressed output would exceed the limit."""


class BoundedDecoder:
    """Incrementally decodes one HTTP content-coding; raises TooLarge past `limit` output bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        encoding = encoding.strip().lower()
        if encoding not in SUPPORTED_ENCODINGS:
            raise ValueError(f"unsupported content-encoding {encoding!r}")
        if limit < 1:
            raise ValueError(f"limit must be a positive number of bytes, got {limit!r}")
        self.encoding = encoding
        self.limit = limit
        self.produced = 0
        self._first_chunk = True
        self._zlib = self._new_decompressor()

    def _new_decompressor(self, raw_deflate: bool = False) -> zlib._Decompress | None:
        if self.encoding == "identity":
            return None
        if self.encoding == "deflate":
            return zlib.decompressobj(-zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)
        return zlib.decompressobj(zlib.MAX_WBITS | 16)

    def feed(self, data: bytes) -> bytes:
        """Decode the next chunk. Raises TooLarge, or zlib.error on corrupt input."""
        if self._zlib is None:
            return self._count(data)
        first, self._first_chunk = self._first_chunk, False
        try:
            return self._inflate(data)
        except zlib.error:
            # "deflate" should be zlib-wrapped, but some servers send raw deflate.
            if not (first and self.encoding == "deflate"):
                raise
            self._zlib = self._new_decompressor(raw_deflate=True)
            return self._inflate(data)

    def _inflate(self, data: bytes) -> bytes:
        chunks: list[bytes] = []
        while data:
            inflater = self._zlib
            assert inflater is not None
            room = self.limit - self.produced
            # Asking for one byte more than there is room for tells a full buffer from a bomb.
            chunks.append(self._count(inflater.decompress(data, room + 1)))
            data = inflater.unconsumed_tail
            if inflater.eof and inflater.unused_data.startswith(GZIP_MAGIC):
                data = inflater.unused_data  # another gzip member follows
                self._zlib = self._new_decompressor()
        return b"".join(chunks)

    def _count(self, output: bytes) -> bytes:
        self.produced += len(output)
        if self.produced > self.limit:
            raise TooLarge(f"decompressed body exceeds {self.limit} bytes")
        return output

    def flush(self) -> bytes:
        """Whatever the decoder still holds once the input has ended."""
        if self._zlib is None:
            return b""
        # All input went through decompress() with a ceiling, so little or nothing is left here.
        return self._count(self._zlib.flush())


def gunzip(body: bytes, limit: int) -> bytes:
    """A gzip body decompressed; raises TooLarge past `limit` bytes, zlib.error when corrupt."""
    decoder = BoundedDecoder("gzip", limit)
    return decoder.feed(body) + decoder.flush()

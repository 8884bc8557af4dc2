using System.Buffers;
using System.IO.Compression;
using System.Net.Http.Headers;

namespace ScrapeDo.Lean.Internal.Http;

/// <summary>
/// Automatic response decompression for the built-in handler, done by the pipeline instead of by
/// <see cref="SocketsHttpHandler.AutomaticDecompression"/>: the same <c>Accept-Encoding: gzip, deflate, br</c> and the same
/// decoding, but the framework's handler parses and enumerates the request's Accept-Encoding header and adds an async
/// layer on every call (about 580 bytes per GetJob2 call, measured), where a raw header and a lookup of
/// <c>Content-Encoding</c> cost nothing. Only reached under <see cref="FeatureSwitches.IsAutomaticDecompressionSupported"/>,
/// so the trimmer removes the codecs when the switch is off.
/// </summary>
internal static class ResponseDecoding
{
    public const string AcceptEncoding = "gzip, deflate, br";

    /// <summary>
    /// Wraps <paramref name="body"/> in a decoder when the response names a supported <c>Content-Encoding</c> (the last
    /// one listed, as the framework's handler does); otherwise returns it unchanged.
    /// </summary>
    public static Stream Decode(HttpResponseMessage response, Stream body)
    {
        if (!response.Content.Headers.NonValidated.TryGetValues("Content-Encoding", out HeaderStringValues values))
        {
            return body;
        }

        string? last = null;
        foreach (string value in values)
        {
            last = value;
        }

        ReadOnlySpan<char> encoding = last.AsSpan();
        encoding = encoding[(encoding.LastIndexOf(',') + 1)..].Trim();
        if (encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase))
        {
            return new GZipStream(body, CompressionMode.Decompress);
        }

        if (encoding.Equals("deflate", StringComparison.OrdinalIgnoreCase))
        {
            return new ZLibOrDeflateStream(body);
        }

        if (encoding.Equals("br", StringComparison.OrdinalIgnoreCase))
        {
            return new BrotliDecodingStream(body);
        }

        return body;
    }

    /// <summary>
    /// HTTP's "deflate" is meant to be zlib, but some servers send raw deflate: the first two bytes decide, as in the
    /// framework's own handler.
    /// </summary>
    private sealed class ZLibOrDeflateStream(Stream inner) : ReadOnlyWrapperStream(inner)
    {
        private Stream? _decoder;

        public override int Read(Span<byte> buffer)
        {
            if (_decoder is null)
            {
                byte[] head = new byte[2];
                int read = Inner.ReadAtLeast(head, 2, throwOnEndOfStream: false);
                _decoder = Create(head.AsMemory(0, read));
            }

            return _decoder.Read(buffer);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_decoder is null)
            {
                byte[] head = new byte[2];
                int read = await Inner.ReadAtLeastAsync(head, 2, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                _decoder = Create(head.AsMemory(0, read));
            }

            return await _decoder.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                // The decoder wraps the inner stream (through the prefix replay); the base then disposes it again, harmlessly.
                _decoder?.Dispose();
            }

            base.Dispose(disposing);
        }

        private Stream Create(ReadOnlyMemory<byte> head)
        {
            // RFC 1950: compression method 8, window at most 32 KiB, and a header checksum divisible by 31.
            bool zlib = head.Length == 2 && (head.Span[0] & 0x0F) == 8 && head.Span[0] >> 4 <= 7 && ((head.Span[0] << 8) | head.Span[1]) % 31 == 0;
            Stream replay = new PrefixedStream(head, Inner);
            return zlib ? new ZLibStream(replay, CompressionMode.Decompress) : new DeflateStream(replay, CompressionMode.Decompress);
        }
    }

    /// <summary>
    /// Brotli decoding through <see cref="BrotliDecoder"/> rather than <see cref="BrotliStream"/>: the stream type also
    /// writes, which links Brotli's native encoder into a native AOT app for nothing.
    /// </summary>
    private sealed class BrotliDecodingStream(Stream inner) : ReadOnlyWrapperStream(inner)
    {
        private const int InputSize = 16 * 1024;
        private BrotliDecoder _decoder;
        private byte[]? _input = ArrayPool<byte>.Shared.Rent(InputSize);
        private int _start;
        private int _end;
        private bool _finished;

        public override int Read(Span<byte> buffer)
        {
            while (true)
            {
                if (TryDecode(buffer, out int written))
                {
                    return written;
                }

                Refill(Inner.Read(FreeSpace()));
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (true)
            {
                if (TryDecode(buffer.Span, out int written))
                {
                    return written;
                }

                FreeSpace();
                Refill(await Inner.ReadAsync(Input.AsMemory(_end), cancellationToken).ConfigureAwait(false));
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _decoder.Dispose();
                if (_input is not null)
                {
                    ArrayPool<byte>.Shared.Return(_input);
                    _input = null;
                }
            }

            base.Dispose(disposing);
        }

        private byte[] Input => _input ?? throw new ObjectDisposedException(nameof(BrotliDecodingStream));

        /// <summary>Decodes what is buffered; false when more input is needed before anything can be returned.</summary>
        private bool TryDecode(Span<byte> buffer, out int written)
        {
            written = 0;
            if (_finished || buffer.IsEmpty)
            {
                return true;
            }

            OperationStatus status = _decoder.Decompress(Input.AsSpan(_start, _end - _start), buffer, out int consumed, out written);
            _start += consumed;
            if (status == OperationStatus.InvalidData)
            {
                throw new InvalidDataException("The Brotli-encoded response body is invalid.");
            }

            _finished = status == OperationStatus.Done;
            return written > 0 || _finished;
        }

        /// <summary>Room for the next read: the decoder takes all the input it is given, so there always is some.</summary>
        private Span<byte> FreeSpace()
        {
            if (_start == _end)
            {
                (_start, _end) = (0, 0);
            }
            else if (_end == Input.Length)
            {
                Input.AsSpan(_start, _end - _start).CopyTo(Input);
                (_start, _end) = (0, _end - _start);
            }

            return Input.AsSpan(_end);
        }

        private void Refill(int read)
        {
            if (read == 0)
            {
                throw new InvalidDataException("The Brotli-encoded response body ended early.");
            }

            _end += read;
        }
    }

    /// <summary>Reads <paramref name="prefix"/> first, then <paramref name="inner"/>.</summary>
    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream inner) : ReadOnlyWrapperStream(inner)
    {
        public override int Read(Span<byte> buffer)
        {
            if (prefix.IsEmpty)
            {
                return Inner.Read(buffer);
            }

            int n = Math.Min(prefix.Length, buffer.Length);
            prefix.Span[..n].CopyTo(buffer);
            prefix = prefix[n..];
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (prefix.IsEmpty)
            {
                return Inner.ReadAsync(buffer, cancellationToken);
            }

            return ValueTask.FromResult(Read(buffer.Span));
        }
    }
}

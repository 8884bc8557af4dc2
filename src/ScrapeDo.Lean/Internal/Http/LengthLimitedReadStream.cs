namespace ScrapeDo.Lean.Internal.Http;

/// <summary>Raised when a response body exceeds <see cref="ScrapeDoClientOptions.MaxResponseBytes"/>.</summary>
internal sealed class ResponseTooLargeException(long limit) : Exception($"The response body exceeds the configured limit of {limit} bytes (ScrapeDoClientOptions.MaxResponseBytes).")
{
    public long Limit { get; } = limit;
}

/// <summary>
/// Counts bytes as they are read and fails once a limit is passed, so a huge or endless body (or a gzip bomb,
/// counted after decompression) cannot exhaust memory.
/// </summary>
internal sealed class LengthLimitedReadStream(Stream inner, long limit) : Stream
{
    private long _read;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Count(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).ConfigureAwait(false));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Count(int n)
    {
        _read += n;
        if (_read > limit)
        {
            throw new ResponseTooLargeException(limit);
        }

        return n;
    }
}

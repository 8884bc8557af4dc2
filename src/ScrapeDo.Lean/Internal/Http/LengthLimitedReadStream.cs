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
internal sealed class LengthLimitedReadStream(Stream inner, long limit, bool leaveOpen = false) : ReadOnlyWrapperStream(inner, leaveOpen)
{
    private long _read;

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer) => Count(Inner.Read(buffer));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

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

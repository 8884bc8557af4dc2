namespace ScrapeDo.Lean.Internal.Http;

/// <summary>
/// The shared shape of the client's read-only, forward-only stream wrappers (length limit, prefix replay, decoders):
/// everything but reading is refused, the array overloads route to the span/memory ones, and the wrapped stream is
/// disposed with the wrapper unless <c>leaveOpen</c> says it belongs to someone else (a caller's webhook body). A subclass implements only <see cref="Read(Span{byte})"/> and
/// <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>.
/// </summary>
internal abstract class ReadOnlyWrapperStream(Stream inner, bool leaveOpen = false) : Stream
{
    protected Stream Inner { get; } = inner;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public abstract override int Read(Span<byte> buffer);

    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !leaveOpen)
        {
            Inner.Dispose();
        }

        base.Dispose(disposing);
    }
}

using System.Buffers;

namespace ScrapeDo.Lean.Internal.Http;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over arrays rented from <see cref="ArrayPool{T}.Shared"/>; growing rents a larger
/// array and returns the old one. Shared by the request-body writer and the CLI's record batches.
/// </summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private const int MinimumSize = 512;
    private byte[] _buffer;
    private int _written;

    public PooledBufferWriter(int initialCapacity = 4096) => _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, MinimumSize));

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public int WrittenCount => _written;

    public int Capacity => _buffer.Length;

    public void Clear() => _written = 0;

    /// <summary>
    /// Clears, and when one large write grew the array past <paramref name="keepAtMost"/> bytes, gives it back to the
    /// pool for one of <paramref name="initialCapacity"/> rather than keeping it for every later batch.
    /// </summary>
    public void Clear(int keepAtMost, int initialCapacity)
    {
        _written = 0;
        if (_buffer.Length > keepAtMost)
        {
            byte[] large = _buffer;
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, MinimumSize));
            ArrayPool<byte>.Shared.Return(large);
        }
    }

    /// <summary>
    /// Hands the rented array and the count written into it to the caller, who returns the array to the pool; the
    /// writer is left empty, owning nothing (a later write rents afresh).
    /// </summary>
    public (byte[] Buffer, int Written) Detach()
    {
        (byte[] buffer, int written) = (_buffer, _written);
        (_buffer, _written) = ([], 0);
        return (buffer, written);
    }

    /// <summary>Drops everything written after the first <paramref name="count"/> bytes.</summary>
    public void Truncate(int count) => _written = Math.Min(_written, count);

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_written > _buffer.Length - count)
        {
            throw new InvalidOperationException("Advanced past the end of the buffer.");
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        _written = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Ensure(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written >= needed)
        {
            return;
        }

        int newSize = (int)Math.Min(Array.MaxLength, Math.Max((long)_buffer.Length * 2, (long)_written + needed));
        byte[] next = ArrayPool<byte>.Shared.Rent(newSize);
        _buffer.AsSpan(0, _written).CopyTo(next);
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = next;
    }
}

using System.Buffers;

namespace ScrapeDo.Lean;

/// <summary>
/// A task's content in a buffer rented from <see cref="ArrayPool{T}.Shared"/> instead of a fresh array per task:
/// handed to the consumer of a run with <see cref="RunOptions.LeaseContent"/>, and to the callers of
/// <see cref="ScrapeDoClient.GetLeasedTaskAsync"/> and <see cref="ScrapeDoWebhookReceiver.ParseLeasedAsync"/> (in a
/// <see cref="LeasedTask"/>). Dispose it once the content is written out; the buffer then goes back to the pool.
/// </summary>
/// <remarks>
/// <para>The bytes are exactly those of <see cref="TaskContent.Utf8"/> in a run without leases: the content as the
/// API returned it, UTF-8, still base64 when <see cref="TaskDetails.Base64EncodedContent"/> is set.</para>
/// <para>Ownership: the lease belongs to whoever received the outcome or the <see cref="LeasedTask"/> that carries it. The runner never touches a
/// lease once it has handed the outcome out, and disposes itself every lease of an outcome it does not hand out (a
/// duplicate, an outcome held for resubmission, one still buffered when the enumeration stops). Disposing twice is
/// harmless; the buffer is returned once.</para>
/// <para>Not disposing is safe: the buffer is then simply never returned to the pool and the garbage collector
/// reclaims it like any array, so pooled memory is never handed out twice. It only forgoes the saving.</para>
/// <para>After <see cref="Dispose"/>, <see cref="Memory"/>, <see cref="Span"/> and <see cref="CopyToAsync"/> throw
/// <see cref="ObjectDisposedException"/>. A <see cref="Memory{T}"/> or span taken before must not be used after
/// disposing (the usual <see cref="IMemoryOwner{T}"/> rule): the buffer may already hold another task's content.</para>
/// </remarks>
public sealed class TaskContentLease : IMemoryOwner<byte>
{
    private static long s_outstanding;
    private static long s_created;

    private readonly int _length;
    private byte[]? _buffer;

    internal TaskContentLease(byte[] rented, int length)
    {
        _buffer = rented;
        _length = length;
        Interlocked.Increment(ref s_outstanding);
        Interlocked.Increment(ref s_created);
    }

    /// <summary>Leases made and not yet disposed, process-wide (for tests that prove leases are returned).</summary>
    internal static long Outstanding => Interlocked.Read(ref s_outstanding);

    /// <summary>Leases made so far, process-wide (for tests that prove a consumer took its contents as leases).</summary>
    internal static long Created => Interlocked.Read(ref s_created);

    /// <summary>Length of the content in bytes (still valid after disposing).</summary>
    public int Length => _length;

    /// <summary>True once the lease was disposed and its buffer returned.</summary>
    public bool IsDisposed => Volatile.Read(ref _buffer) is null;

    /// <summary>The content (exactly <see cref="Length"/> bytes).</summary>
    /// <exception cref="ObjectDisposedException">The lease was disposed.</exception>
    public Memory<byte> Memory => Buffer().AsMemory(0, _length);

    /// <summary>The content as a span (exactly <see cref="Length"/> bytes).</summary>
    /// <exception cref="ObjectDisposedException">The lease was disposed.</exception>
    public ReadOnlySpan<byte> Span => Buffer().AsSpan(0, _length);

    /// <summary>Writes the content to <paramref name="destination"/> as it is (no base64 decoding).</summary>
    /// <param name="destination">Where the bytes go.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <exception cref="ObjectDisposedException">The lease was disposed.</exception>
    public ValueTask CopyToAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return destination.WriteAsync(Memory, cancellationToken);
    }

    /// <summary>The content's bytes, base64-decoded when <paramref name="base64"/> is true, in a new array.</summary>
    /// <param name="base64">The task's <see cref="TaskDetails.Base64EncodedContent"/> flag.</param>
    /// <exception cref="ObjectDisposedException">The lease was disposed.</exception>
    /// <exception cref="FormatException">The content is flagged base64 but is not valid base64.</exception>
    public byte[] ToArray(bool base64 = false) => new TaskContent(Memory).GetBytes(base64);

    /// <summary>Returns the buffer to the pool; later calls do nothing.</summary>
    public void Dispose()
    {
        byte[]? buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            Interlocked.Decrement(ref s_outstanding);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private byte[] Buffer() => Volatile.Read(ref _buffer) ?? throw new ObjectDisposedException(nameof(TaskContentLease));
}

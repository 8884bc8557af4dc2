using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean;

/// <summary>
/// A task read with its content in a pooled <see cref="TaskContentLease"/> instead of a fresh array per read:
/// what <see cref="ScrapeDoClient.GetLeasedTaskAsync"/> and <see cref="ScrapeDoWebhookReceiver.ParseLeasedAsync"/>
/// return. Dispose it once the content is written out; the buffer then goes back to the pool.
/// </summary>
/// <remarks>
/// <para>For a caller that streams each content to a sink (a file, a queue, an HTTP response) and does not keep it: a
/// fresh array per read costs its size in new memory, and from 85,000 bytes an array lives on the large-object heap,
/// which only a full collection reclaims. <c>docs/benchmarks.md</c> has the measurements.</para>
/// <para><see cref="Details"/> carries every field of the task but an empty <see cref="TaskDetails.Content"/>; the
/// bytes are in <see cref="Content"/>, exactly those <see cref="ScrapeDoClient.GetTaskAsync(string, string, CancellationToken)"/>
/// would have put in <see cref="TaskDetails.Content"/> (still base64 when <see cref="TaskDetails.Base64EncodedContent"/>
/// is set; <see cref="CopyContentToAsync"/> decodes it). The rules of <see cref="TaskContentLease"/> apply: not
/// disposing is safe (the garbage collector reclaims the buffer), using a span after disposing is not.</para>
/// <para>Disposing the <see cref="LeasedTask"/> disposes <see cref="Content"/>: a caller that hands the lease on to
/// another owner leaves the <see cref="LeasedTask"/> undisposed (it holds nothing else).</para>
/// <para><see cref="TaskDetails.ResponseHeaders"/> and <see cref="TaskDetails.ScrapeDoMetadata"/> are read as by the
/// plain read: read-only maps, which are not always a <see cref="Dictionary{TKey, TValue}"/> and may be one instance
/// shared by tasks whose maps are equal. Use them through the interface.</para>
/// </remarks>
public sealed class LeasedTask : IDisposable
{
    internal LeasedTask(TaskDetails details, TaskContentLease? content)
    {
        Details = details;
        Content = content;
    }

    /// <summary>The task, with an empty <see cref="TaskDetails.Content"/>.</summary>
    public TaskDetails Details { get; }

    /// <summary>The task's content in a pooled buffer; null when the task returned no content.</summary>
    public TaskContentLease? Content { get; }

    /// <summary>Writes the content's bytes, base64-decoded when the task says so, to <paramref name="destination"/>.</summary>
    /// <param name="destination">Where the bytes go.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <returns>The number of bytes written (0 without content).</returns>
    /// <exception cref="ObjectDisposedException">The lease was disposed.</exception>
    /// <exception cref="FormatException">The content is flagged base64 but is not valid base64.</exception>
    public ValueTask<long> CopyContentToAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return Content is null
            ? ValueTask.FromResult(0L)
            : new TaskContent(Content.Memory).CopyToAsync(destination, Details.Base64EncodedContent, cancellationToken);
    }

    /// <summary>Returns the content's buffer to the pool; later calls do nothing.</summary>
    public void Dispose() => Content?.Dispose();

    /// <summary>Reads that produced details through <see cref="PooledTaskContent.TypeInfo"/>, made into a lease.</summary>
    internal static LeasedTask From(TaskDetails details) => new(details, PooledTaskContent.Detach(details));
}

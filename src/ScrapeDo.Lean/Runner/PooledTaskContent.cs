using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// Task reads for runs with <see cref="RunOptions.LeaseContent"/>: the content is unescaped straight into a buffer
/// rented from <see cref="ArrayPool{T}.Shared"/> (no exact-size copy), and the runner turns that buffer into a
/// <see cref="TaskContentLease"/> before the details leave it, so pooled bytes never sit behind a public
/// <see cref="TaskContent"/>.
/// </summary>
internal static class PooledTaskContent
{
    /// <summary>A <see cref="TaskDetails"/> reader whose <c>Content</c> lives in a rented buffer.</summary>
    public static JsonTypeInfo<TaskDetails> TypeInfo => TaskDetailsReader.PooledTypeInfo;

    /// <summary>
    /// Moves the content of <paramref name="details"/> (read through <see cref="TypeInfo"/>) into a lease and leaves
    /// the details without content. Null when there was no content.
    /// </summary>
    public static TaskContentLease? Detach(TaskDetails details)
    {
        TaskContent content = details.Content;
        details.Content = TaskContent.Empty;
        if (content.IsEmpty || !MemoryMarshal.TryGetArray(content.Utf8, out ArraySegment<byte> segment) || segment.Offset != 0)
        {
            return null;
        }

        return new TaskContentLease(segment.Array!, segment.Count);
    }

    /// <summary>Returns the buffer of details read through <see cref="TypeInfo"/> that are dropped (not yet terminal).</summary>
    public static void Release(TaskDetails details) => Detach(details)?.Dispose();

    /// <summary>A lease over a copy of <paramref name="content"/> (webhook deliveries, which the runner does not own).</summary>
    public static TaskContentLease? Copy(TaskContent content)
    {
        if (content.IsEmpty)
        {
            return null;
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(content.Length);
        content.Utf8.Span.CopyTo(rented);
        return new TaskContentLease(rented, content.Length);
    }

    /// <summary>
    /// Reads a <c>Content</c> value as <see cref="TaskContentJsonConverter"/> does, but into a buffer rented from the
    /// shared pool; <paramref name="rented"/> is that buffer (null for an empty content), which the caller owns.
    /// </summary>
    public static TaskContent ReadValue(ref Utf8JsonReader reader, out byte[]? rented)
    {
        rented = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return TaskContent.Empty;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"Expected Content to be a JSON string, got {reader.TokenType}.");
        }

        int escapedLength = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        if (escapedLength == 0)
        {
            return TaskContent.Empty;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(escapedLength);
        int written;
        try
        {
            if (!reader.ValueIsEscaped)
            {
                if (reader.HasValueSequence)
                {
                    reader.ValueSequence.CopyTo(buffer);
                }
                else
                {
                    reader.ValueSpan.CopyTo(buffer);
                }

                written = escapedLength;
            }
            else
            {
                written = JsonUnescaper.UnescapeInto(ref reader, buffer);
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        rented = buffer;
        return new TaskContent(buffer.AsMemory(0, written));
    }
}

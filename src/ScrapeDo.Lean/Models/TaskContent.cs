using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScrapeDo.Lean;

/// <summary>
/// A task's <c>Content</c> exactly as the API returned it, held as UTF-8 bytes rather than a .NET string so a large
/// page costs its size once (a string would cost twice, and decoding base64 from it a third time).
/// </summary>
[JsonConverter(typeof(TaskContentJsonConverter))]
public sealed class TaskContent
{
    private const int DecodeChunkBytes = 64 * 1024;

    /// <summary>An empty content.</summary>
    public static readonly TaskContent Empty = new(ReadOnlyMemory<byte>.Empty);

    /// <summary>Wraps UTF-8 bytes (not copied).</summary>
    public TaskContent(ReadOnlyMemory<byte> utf8) => Utf8 = utf8;

    /// <summary>The content as UTF-8 bytes, still base64 when the task says <c>Base64EncodedContent</c>.</summary>
    public ReadOnlyMemory<byte> Utf8 { get; }

    /// <summary>Length of <see cref="Utf8"/> in bytes.</summary>
    public int Length => Utf8.Length;

    /// <summary>True when the API returned no content.</summary>
    public bool IsEmpty => Utf8.IsEmpty;

    /// <summary>The content as the API returned it (base64 text for binary targets).</summary>
    public override string ToString() => Encoding.UTF8.GetString(Utf8.Span);

    /// <summary>
    /// The content's bytes: base64-decoded when <paramref name="base64"/> is true, otherwise the UTF-8 text.
    /// </summary>
    /// <param name="base64">The task's <c>Base64EncodedContent</c> flag.</param>
    /// <exception cref="FormatException">The content is flagged base64 but is not valid base64.</exception>
    public byte[] GetBytes(bool base64)
    {
        if (!base64)
        {
            return Utf8.ToArray();
        }

        byte[] decoded = new byte[Base64.GetMaxDecodedFromUtf8Length(Utf8.Length)];
        OperationStatus status = Base64.DecodeFromUtf8(Utf8.Span, decoded, out _, out int written);
        if (status != OperationStatus.Done)
        {
            throw new FormatException($"Task content is flagged Base64EncodedContent but is not valid base64 ({status}).");
        }

        return written == decoded.Length ? decoded : decoded.AsSpan(0, written).ToArray();
    }

    /// <summary>
    /// Writes the content's bytes to <paramref name="destination"/>: decoded in 64 KiB chunks through a pooled buffer
    /// when <paramref name="base64"/> is true, otherwise written straight from <see cref="Utf8"/> with no copy.
    /// </summary>
    /// <param name="destination">Where the bytes go (a file, a network stream …).</param>
    /// <param name="base64">The task's <c>Base64EncodedContent</c> flag.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="FormatException">The content is flagged base64 but is not valid base64.</exception>
    public async ValueTask<long> CopyToAsync(Stream destination, bool base64, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (!base64)
        {
            await destination.WriteAsync(Utf8, cancellationToken).ConfigureAwait(false);
            return Utf8.Length;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(DecodeChunkBytes);
        try
        {
            long total = 0;
            ReadOnlyMemory<byte> remaining = Utf8;
            while (!remaining.IsEmpty)
            {
                // Input chunks are multiples of 4 so every chunk but the last decodes completely.
                int take = Math.Min(remaining.Length, DecodeChunkBytes / 3 * 4);
                bool final = take == remaining.Length;
                OperationStatus status = Base64.DecodeFromUtf8(remaining.Span[..take], buffer, out int consumed, out int written, final);
                if (status is not (OperationStatus.Done or OperationStatus.NeedMoreData) || consumed == 0 && !final)
                {
                    throw new FormatException($"Task content is flagged Base64EncodedContent but is not valid base64 ({status}).");
                }

                await destination.WriteAsync(buffer.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
                total += written;
                remaining = remaining[consumed..];
                if (final && status == OperationStatus.Done)
                {
                    break;
                }

                if (final)
                {
                    throw new FormatException("Task content is flagged Base64EncodedContent but its base64 is truncated.");
                }
            }

            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>Reads a JSON string into UTF-8 bytes with one allocation of the unescaped size.</summary>
internal sealed class TaskContentJsonConverter : JsonConverter<TaskContent>
{
    public override bool HandleNull => true;

    public override TaskContent Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadValue(ref reader);

    /// <summary>The converter's whole reading rule, shared with the runner's hand-written task reader.</summary>
    public static TaskContent ReadValue(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return TaskContent.Empty;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"Expected Content to be a JSON string, got {reader.TokenType}.");
        }

        if (!reader.HasValueSequence && !reader.ValueIsEscaped)
        {
            return reader.ValueSpan.IsEmpty ? TaskContent.Empty : new TaskContent(reader.ValueSpan.ToArray());
        }

        if (!reader.ValueIsEscaped)
        {
            return new TaskContent(reader.ValueSequence.ToArray());
        }

        return new TaskContent(Internal.Json.JsonUnescaper.Unescape(ref reader));
    }

    public override void Write(Utf8JsonWriter writer, TaskContent value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Utf8.Span);
}

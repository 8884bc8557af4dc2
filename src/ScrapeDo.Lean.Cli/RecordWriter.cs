using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ScrapeDo.Lean.Cli;

/// <summary>
/// Writes one JSONL record per outcome (design.md contract). The runner flushes it (<see cref="FlushAsync"/>) before
/// it journals a batch of outcomes as delivered, so a record is acknowledged only once it is in the sink.
/// </summary>
/// <remarks>
/// On resume it first cuts a torn last line, then counts the records already there per target. Records carry no
/// input line number, so the dedupe is by count: a target that already has as many records as the input has lines
/// for it gets no more, whatever the new outcome says (an outcome written before a crash but never acknowledged is
/// delivered again, possibly with another status). The input's line counts are taken only for targets that already
/// have a record, so memory grows with the existing file, not the input.
/// </remarks>
internal sealed class RecordWriter : IAsyncDisposable
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly string? _contentDir;
    private readonly string _textExtension;
    private readonly Dictionary<string, TargetCount> _alreadyWritten;
    private readonly ArrayBufferWriter<byte> _buffer = new(16 * 1024);
    private Exception? _failed;

    private RecordWriter(Stream stream, bool ownsStream, string? contentDir, string textExtension, Dictionary<string, TargetCount> alreadyWritten)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        _contentDir = contentDir;
        _textExtension = textExtension;
        _alreadyWritten = alreadyWritten;
    }

    public int PreviouslyWritten { get; private init; }

    /// <summary>For tests: wraps the --output file's stream at a given full path (e.g. one that fails like a full disk).</summary>
    internal static Func<string, Stream, Stream>? TestStreamWrapper { get; set; }

    public static async Task<RecordWriter> OpenAsync(string? path, bool resume, string? contentDir, string textExtension, CliConsole console, CancellationToken cancellationToken)
    {
        if (contentDir is not null)
        {
            try
            {
                Directory.CreateDirectory(contentDir);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"cannot create --content-dir '{contentDir}': {ex.Message}");
            }
        }

        if (path is null)
        {
            return new RecordWriter(console.OpenStdout(), ownsStream: false, contentDir, textExtension, []);
        }

        try
        {
            var previous = new Dictionary<string, TargetCount>(StringComparer.Ordinal);
            int count = 0;
            FileStream file;
            if (resume && File.Exists(path))
            {
                file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
                byte[] existing = new byte[file.Length];
                await file.ReadExactlyAsync(existing, cancellationToken).ConfigureAwait(false);
                int end = Array.LastIndexOf(existing, (byte)'\n') + 1;
                foreach (ReadOnlyMemory<byte> line in Lines(existing.AsMemory(0, end)))
                {
                    string key = KeyOf(line.Span);
                    TargetCount seen = previous.GetValueOrDefault(key) ?? (previous[key] = new TargetCount());
                    seen.Records++;
                    count++;
                }

                // Anything after the last newline is a record torn by the crash: it was never complete.
                file.SetLength(end);
                file.Seek(end, SeekOrigin.Begin);
            }
            else
            {
                file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
            }

            Stream sink = TestStreamWrapper?.Invoke(Path.GetFullPath(path), file) ?? file;
            return new RecordWriter(sink, ownsStream: true, contentDir, textExtension, previous) { PreviouslyWritten = count };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot open --output '{path}': {ex.Message}");
        }
        catch (JsonException ex)
        {
            throw new CliException($"--output '{path}' holds a line that is not a JSONL record ({ex.Message}); it cannot be resumed.");
        }
    }

    /// <summary>True when the records already in the file are counted against the input (a resume).</summary>
    public bool Deduplicates => _alreadyWritten.Count > 0;

    /// <summary>Counts one input line whose record key is <paramref name="key"/> (only keys with a record matter).</summary>
    public void CountInputLine(string key)
    {
        if (_alreadyWritten.TryGetValue(key, out TargetCount? count))
        {
            count.InputLines++;
        }
    }

    /// <summary>The record key of an input line: the URL, or for plugin runs the parsed params (raw text if invalid).</summary>
    public static string InputKey(string text, bool plugin)
    {
        if (!plugin)
        {
            return text;
        }

        try
        {
            return PluginParams.FromJson(text).ToString();
        }
        catch (ArgumentException)
        {
            return text;
        }
    }

    /// <summary>
    /// Writes the record unless its target already has a record for each of its input lines (from before a resume).
    /// Returns false when skipped. A write that fails leaves the writer failed: <see cref="FlushAsync"/> then throws,
    /// so nothing after it is acknowledged.
    /// </summary>
    public async Task<bool> WriteAsync(TaskOutcome outcome, string? rawPluginTarget, string? error, CancellationToken cancellationToken)
    {
        if (_alreadyWritten.TryGetValue(outcome.Target, out TargetCount? count))
        {
            if (count.Records >= count.InputLines)
            {
                return false;
            }

            count.Records++;
        }

        try
        {
            return await WriteRecordAsync(outcome, rawPluginTarget, error, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _failed = ex;
            throw;
        }
    }

    /// <summary>Pushes every record written so far to the OS (the runner calls this before acknowledging them).</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_failed is not null)
        {
            throw new IOException($"an earlier record could not be written: {_failed.Message}", _failed);
        }

        try
        {
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            _failed = ex;
            throw;
        }
    }

    private async Task<bool> WriteRecordAsync(TaskOutcome outcome, string? rawPluginTarget, string? error, CancellationToken cancellationToken)
    {
        string? contentFile = null;
        TaskDetails? details = outcome.Details;
        if (_contentDir is not null && details is not null && !details.Content.IsEmpty)
        {
            contentFile = Path.Combine(_contentDir, details.TaskId + (details.Base64EncodedContent ? ".bin" : rawPluginTarget is not null ? ".json" : _textExtension));
            await using var file = new FileStream(contentFile, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
            await details.CopyContentToAsync(file, cancellationToken).ConfigureAwait(false);
        }

        _buffer.ResetWrittenCount();
        using (var json = new Utf8JsonWriter(_buffer, WriterOptions))
        {
            json.WriteStartObject();
            if (rawPluginTarget is not null)
            {
                json.WritePropertyName("target"u8);
                json.WriteRawValue(rawPluginTarget);
            }
            else
            {
                json.WriteString("target"u8, outcome.Target);
            }

            WriteNullable(json, "jobId"u8, outcome.JobId);
            WriteNullable(json, "taskId"u8, outcome.TaskId);
            json.WriteString("status"u8, outcome.StatusText);
            if (outcome.StatusCode is int code)
            {
                json.WriteNumber("statusCode"u8, code);
            }
            else
            {
                json.WriteNull("statusCode"u8);
            }

            json.WriteBoolean("base64"u8, details?.Base64EncodedContent ?? false);
            if (details is not null && _contentDir is null && !details.Content.IsEmpty)
            {
                json.WriteString("content"u8, details.Content.Utf8.Span);
            }
            else
            {
                json.WriteNull("content"u8);
            }

            WriteNullable(json, "contentFile"u8, contentFile);
            WriteNullable(json, "error"u8, error);
            json.WriteEndObject();
        }

        _buffer.GetSpan(1)[0] = (byte)'\n';
        _buffer.Advance(1);
        // Not the run's token: a record half written because of a cancel would tear the line.
        await _stream.WriteAsync(_buffer.WrittenMemory, CancellationToken.None).ConfigureAwait(false);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_failed is null)
            {
                await _stream.FlushAsync().ConfigureAwait(false);
            }
        }
        catch (IOException)
        {
            // The run already failed or stops on this write; its error is the one reported.
        }
        finally
        {
            if (_ownsStream)
            {
                try
                {
                    await _stream.DisposeAsync().ConfigureAwait(false);
                }
                catch (IOException)
                {
                    // A full disk can fail the final flush inside dispose too; nothing unflushed was acknowledged.
                }
            }
        }
    }

    private static void WriteNullable(Utf8JsonWriter json, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    private static string KeyOf(ReadOnlySpan<byte> line)
    {
        using JsonDocument doc = JsonDocument.Parse(line.ToArray());
        JsonElement target = doc.RootElement.GetProperty("target");
        return target.ValueKind == JsonValueKind.String ? target.GetString()! : PluginParams.FromJson(target.GetRawText()).ToString();
    }

    /// <summary>Records already in the file for one target, and the input lines that target has.</summary>
    private sealed class TargetCount
    {
        public int Records;
        public int InputLines;
    }

    private static IEnumerable<ReadOnlyMemory<byte>> Lines(ReadOnlyMemory<byte> all)
    {
        int start = 0;
        while (start < all.Length)
        {
            int newline = all.Span[start..].IndexOf((byte)'\n');
            int end = newline < 0 ? all.Length : start + newline;
            if (end > start)
            {
                yield return all[start..end];
            }

            start = end + 1;
        }
    }
}

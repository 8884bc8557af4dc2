using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ScrapeDo.Lean.Cli;

/// <summary>
/// Writes one JSONL record per outcome (design.md contract), flushed per record so a killed run leaves whole lines.
/// On resume it first cuts a torn last line, then remembers the records already there so the one outcome a crash
/// can hand out twice is not written twice.
/// </summary>
internal sealed class RecordWriter : IAsyncDisposable
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly string? _contentDir;
    private readonly string _textExtension;
    private readonly Dictionary<string, int> _alreadyWritten;
    private readonly ArrayBufferWriter<byte> _buffer = new(16 * 1024);

    private RecordWriter(Stream stream, bool ownsStream, string? contentDir, string textExtension, Dictionary<string, int> alreadyWritten)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        _contentDir = contentDir;
        _textExtension = textExtension;
        _alreadyWritten = alreadyWritten;
    }

    public int PreviouslyWritten { get; private init; }

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
            var previous = new Dictionary<string, int>(StringComparer.Ordinal);
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
                    previous[key] = previous.GetValueOrDefault(key) + 1;
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

            return new RecordWriter(file, ownsStream: true, contentDir, textExtension, previous) { PreviouslyWritten = count };
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

    /// <summary>Writes the record unless an earlier, interrupted run already wrote it. Returns false when skipped.</summary>
    public async Task<bool> WriteAsync(TaskOutcome outcome, string? rawPluginTarget, string? error, CancellationToken cancellationToken)
    {
        string key = Key(outcome.TaskId, outcome.Target, error);
        if (_alreadyWritten.TryGetValue(key, out int seen) && seen > 0)
        {
            _alreadyWritten[key] = seen - 1;
            return false;
        }

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
        await _stream.WriteAsync(_buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.FlushAsync().ConfigureAwait(false);
        if (_ownsStream)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
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

    private static string Key(string? taskId, string target, string? error) => taskId ?? string.Concat(target, "\u0001", error);

    private static string KeyOf(ReadOnlySpan<byte> line)
    {
        using JsonDocument doc = JsonDocument.Parse(line.ToArray());
        JsonElement root = doc.RootElement;
        string? taskId = root.TryGetProperty("taskId", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        JsonElement target = root.GetProperty("target");
        string targetText = target.ValueKind == JsonValueKind.String ? target.GetString()! : PluginParams.FromJson(target.GetRawText()).ToString();
        string? error = root.TryGetProperty("error", out JsonElement e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
        return Key(taskId, targetText, error);
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

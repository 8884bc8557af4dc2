using System.Buffers;
using System.Buffers.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using ScrapeDo.Lean.Internal;
using ScrapeDo.Lean.Internal.Http;

namespace ScrapeDo.Lean.Cli;

/// <summary>
/// Writes one JSONL record per outcome (design.md contract). The runner flushes it (<see cref="FlushAsync"/>) before
/// it journals a batch of outcomes as delivered, so a record is acknowledged only once it is in the sink.
/// </summary>
/// <remarks>
/// <para>
/// On resume it first cuts a torn last line, then counts the records already there per target, and those that did not
/// succeed (the journal keeps only which inputs were delivered; the output holds what became of them, so the exit code of
/// a resume covers the records written before it). Records carry no
/// input line number, so the dedupe is by count: a target that already has as many records as the input has lines
/// for it gets no more, whatever the new outcome says (an outcome written before a crash but never acknowledged is
/// delivered again, possibly with another status). The input's line counts are taken only for targets that already
/// have a record, so memory grows with the existing file, not the input.
/// </para>
/// <para>
/// Records are group-committed: each is serialized into one pooled buffer, and the buffer goes to the sink in one
/// write when the runner flushes a batch (or once it holds <see cref="WriteThreshold"/> bytes). The sink's stream is
/// unbuffered and written synchronously: on Linux an "async" write to a file or to stdout is a blocking write on a
/// thread-pool thread anyway, so one direct write per batch replaces a thread-pool hop and a syscall per record.
/// </para>
/// </remarks>
internal sealed class RecordWriter : IAsyncDisposable
{
    /// <summary>Records are handed to the sink when this many bytes are pending, even between flushes.</summary>
    internal const int WriteThreshold = 256 * 1024;

    private const int DecodeChunkBytes = 64 * 1024;

    // The contract's escaping (unchanged since the first release): only what JSON requires plus what the relaxed
    // encoder refuses (non-BMP, U+2028/9, …). SkipValidation: the record's structure is fixed here.
    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = Encoder, SkipValidation = true };

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly string? _contentDir;

    // Folders whose new entries are synced at the next flush to disk (see DirectoryEntries): the records file's when
    // this run created it, the content folder's (and, once, its parent's) when content files were made since.
    private string? _recordsFolderToSync;
    private bool _contentFilesToSync;
    private bool _contentFolderParentSynced;
    private readonly string _textExtension;
    private readonly Dictionary<string, TargetCount> _alreadyWritten;
    // One huge page may grow the batch buffer; past this it goes back to the pool rather than staying with the writer.
    private const int BatchCapacity = 64 * 1024, KeepBatchBufferAtMost = 1024 * 1024;

    private readonly PooledBufferWriter _pending = new(BatchCapacity);
    private readonly Utf8JsonWriter _json;
    private Exception? _failed;

    private RecordWriter(Stream stream, bool ownsStream, string? contentDir, string textExtension, Dictionary<string, TargetCount> alreadyWritten)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        _contentDir = contentDir;
        _textExtension = textExtension;
        _alreadyWritten = alreadyWritten;
        _json = new Utf8JsonWriter(_pending, WriterOptions);
    }

    public int PreviouslyWritten { get; private init; }

    /// <summary>The --output path when this resume created the file (the interrupted run had written none), else null.</summary>
    private string? CreatedForResume { get; init; }

    /// <summary>Records already in the file (a resume) whose status is not <c>success</c>.</summary>
    public int PreviouslyNotSucceeded { get; private init; }

    /// <summary>For tests: wraps the --output file's stream at a given full path (e.g. one that fails like a full disk).</summary>
    internal static Func<string, Stream, Stream>? TestStreamWrapper { get; set; }

    /// <summary>
    /// Opens the sink. On resume, <paramref name="checkExisting"/> is given whether the file exists, how many complete
    /// records it holds and the first job id of a record that is not among <paramref name="knownJobs"/> (null when all
    /// are, or when no set is given), before anything in it is changed (the torn last line is cut only after it
    /// returns), so a check that throws leaves the file as it was.
    /// </summary>
    public static async Task<RecordWriter> OpenAsync(string? path, bool resume, string? contentDir, string textExtension, CliConsole console, CancellationToken cancellationToken, Action<bool, int, string?>? checkExisting = null, IReadOnlySet<string>? knownJobs = null)
    {
        CreateContentDir(contentDir);

        if (path is null)
        {
            return new RecordWriter(console.OpenStdout(), ownsStream: false, contentDir, textExtension, []);
        }

        try
        {
            var previous = new Dictionary<string, TargetCount>(StringComparer.Ordinal);
            int count = 0, notSucceeded = 0;
            FileStream file;
            bool created = false;
            string? folderToSync = null;
            if (resume && File.Exists(path))
            {
                file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
                try
                {
                    // Streamed: records carry their contents, so the file can be far larger than memory. Only the head of
                    // each line (its first field is the target) is looked at.
                    using var existing = new ExistingRecords(previous, knownJobs);
                    byte[] chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
                    try
                    {
                        int read;
                        while ((read = await file.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
                        {
                            existing.Feed(chunk.AsSpan(0, read));
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(chunk);
                    }

                    count = existing.Records;
                    notSucceeded = existing.NotSucceeded;
                    long end = existing.EndOfLastLine;
                    checkExisting?.Invoke(true, count, existing.ForeignJobId);

                    // Anything after the last newline is a record torn by the crash: it was never complete.
                    file.SetLength(end);
                    file.Seek(end, SeekOrigin.Begin);
                }
                catch
                {
                    await file.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
            }
            else
            {
                if (resume)
                {
                    checkExisting?.Invoke(false, 0, null);
                }

                // Unbuffered: records reach it in batches from the pooled buffer (see the remarks).
                file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0);
                created = resume;
                folderToSync = DirectoryEntries.FolderOf(path);
            }

            Stream sink = TestStreamWrapper?.Invoke(Path.GetFullPath(path), file) ?? file;
            return new RecordWriter(sink, ownsStream: true, contentDir, textExtension, previous)
            {
                PreviouslyWritten = count,
                PreviouslyNotSucceeded = notSucceeded,
                CreatedForResume = created ? path : null,
                _recordsFolderToSync = folderToSync,
            };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot open --output '{path}': {CliValidation.Why(ex)}.");
        }
        catch (JsonException ex)
        {
            throw new CliException($"--output '{path}' holds a line that is not a JSONL record ({ScrapeDo.Lean.Internal.Json.JsonErrorText.Describe(ex)}); it cannot be resumed.");
        }
    }

    /// <summary>
    /// Creates <c>--content-dir</c> (and its parents) unless it exists, and checks that files can be made in it (a
    /// probe file, removed at once): a path that cannot be a folder, or a folder that takes no files, is one line
    /// naming the flag before the first request, not a failure after jobs were paid for.
    /// </summary>
    public static void CreateContentDir(string? contentDir)
    {
        if (contentDir is null)
        {
            return;
        }

        if (File.Exists(contentDir))
        {
            throw new CliException($"--content-dir '{contentDir}' is a file; give a folder for the content files.");
        }

        try
        {
            Directory.CreateDirectory(contentDir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot create --content-dir '{contentDir}': {CliValidation.Why(ex)}.");
        }

        try
        {
            CliValidation.ProbeFolder(contentDir, "scrapedo");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write files into --content-dir '{contentDir}': {CliValidation.Why(ex)}.");
        }
    }

    /// <summary>Set when the write that failed was a <c>--content-dir</c> file, not the records' sink.</summary>
    public bool FailedInContentDir { get; private set; }

    /// <summary>True when the records already in the file are counted against the input (a resume).</summary>
    public bool Deduplicates => _alreadyWritten.Count > 0;

    /// <summary>The longest target a record that failed before reaching a job echoes; a longer one is an excerpt.</summary>
    public const int MaxEchoedTarget = 200;

    /// <summary>
    /// The target a record names a line by that was never held whole (cut at the reader's bound, or not text): its
    /// first <see cref="MaxEchoedTarget"/> characters. Every other record names its line as given, and a resume counts
    /// an input line under exactly the target its record carries (<see cref="CountInputLine"/>), so two lines alike in
    /// their first characters keep a count each.
    /// </summary>
    public static string ExcerptTarget(string line) => CliValidation.Excerpt(line, MaxEchoedTarget);

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
    public ValueTask<bool> WriteAsync(TaskOutcome outcome, string? rawPluginTarget, string? error, CancellationToken cancellationToken)
    {
        if (_alreadyWritten.TryGetValue(outcome.Target, out TargetCount? count))
        {
            if (count.Records >= count.InputLines)
            {
                return new ValueTask<bool>(false);
            }

            count.Records++;
        }

        if (_failed is not null)
        {
            return ValueTask.FromException<bool>(Failed());
        }

        TaskDetails? details = outcome.Details;
        if (_contentDir is not null && details is not null && !ContentOf(outcome).IsEmpty)
        {
            return WriteWithContentFileAsync(outcome, details, rawPluginTarget, error, cancellationToken);
        }

        try
        {
            AppendRecord(outcome, rawPluginTarget, error, contentFile: null);
            if (_pending.WrittenCount >= WriteThreshold)
            {
                WritePending();
            }

            return new ValueTask<bool>(true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ValueTask.FromException<bool>(ex);
        }
    }

    /// <summary>
    /// Hands every record written so far to the sink and flushes it (the runner calls this before acknowledging them).
    /// Completes synchronously: see the remarks.
    /// </summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            Flush();
            return ValueTask.CompletedTask;
        }
        catch (IOException ex)
        {
            return ValueTask.FromException(ex);
        }
    }

    private void Flush()
    {
        if (_failed is not null)
        {
            throw Failed();
        }

        WritePending();
        try
        {
            if (FlushToDisk && _stream is FileStream file)
            {
                file.Flush(flushToDisk: true);
                SyncNewEntries();
            }
            else
            {
                _stream.Flush();
            }
        }
        catch (IOException ex)
        {
            _failed = ex;
            throw;
        }
    }

    /// <summary>
    /// The names of files this run made, synced before the journal can count their records as delivered: a synced file
    /// whose name was not synced can be missing after a power loss.
    /// </summary>
    private void SyncNewEntries()
    {
        if (_recordsFolderToSync is { } records)
        {
            DirectoryEntries.Flush(records);
            _recordsFolderToSync = null;
        }

        if (_contentFilesToSync)
        {
            DirectoryEntries.Flush(_contentDir!);
            if (!_contentFolderParentSynced)
            {
                // The content folder itself may be new (CreateContentDir).
                DirectoryEntries.Flush(DirectoryEntries.FolderOf(Path.TrimEndingDirectorySeparator(_contentDir!)));
                _contentFolderParentSynced = true;
            }

            _contentFilesToSync = false;
        }
    }

    /// <summary>
    /// Whether <see cref="FlushAsync"/> also forces the records file to disk (a run with a journal; standard output and
    /// wrapped test streams are flushed only), and each <c>--content-dir</c> file to disk before its record is written.
    /// </summary>
    public bool FlushToDisk { get; set; }

    /// <summary>Whether a write or flush to the sink failed (a full disk, say); nothing after it was acknowledged.</summary>
    public bool HasFailed => _failed is not null;

    private IOException Failed() => new($"an earlier record could not be written: {_failed!.Message}", _failed);

    /// <summary>One write of every pending record. A failure (a full disk) leaves the writer failed.</summary>
    private void WritePending()
    {
        if (_pending.WrittenCount == 0)
        {
            return;
        }

        try
        {
            // Not cancellable: a record half written because of a cancel would tear the line.
            _stream.Write(_pending.WrittenSpan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _failed = ex;
            throw;
        }
        finally
        {
            _pending.Clear(KeepBatchBufferAtMost, BatchCapacity);
        }
    }

    /// <summary>
    /// The extension of a binary content's file, from the target's Content-Type as the task reports it (an image
    /// saved as .png opens as one); .bin when the type is missing or not one of the common binary types.
    /// </summary>
    internal static string BinaryExtension(IReadOnlyDictionary<string, string>? responseHeaders)
    {
        string? contentType = null;
        foreach ((string name, string value) in responseHeaders ?? EmptyHeaders)
        {
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                contentType = value;
                break;
            }
        }

        ReadOnlySpan<char> mediaType = contentType is null ? default : contentType.AsSpan();
        int parameters = mediaType.IndexOf(';');
        mediaType = (parameters >= 0 ? mediaType[..parameters] : mediaType).Trim();
        foreach ((string type, string extension) in BinaryTypes)
        {
            if (mediaType.Equals(type, StringComparison.OrdinalIgnoreCase))
            {
                return extension;
            }
        }

        return ".bin";
    }

    private static readonly Dictionary<string, string> EmptyHeaders = [];

    private static readonly (string Type, string Extension)[] BinaryTypes =
    [
        ("image/png", ".png"), ("image/jpeg", ".jpg"), ("image/gif", ".gif"), ("image/webp", ".webp"), ("image/avif", ".avif"),
        ("image/svg+xml", ".svg"), ("image/x-icon", ".ico"), ("image/vnd.microsoft.icon", ".ico"), ("image/bmp", ".bmp"),
        ("image/tiff", ".tif"), ("application/pdf", ".pdf"), ("application/zip", ".zip"), ("application/gzip", ".gz"),
        ("font/woff2", ".woff2"), ("font/woff", ".woff"), ("audio/mpeg", ".mp3"), ("video/mp4", ".mp4"),
    ];

    private ValueTask<bool> WriteWithContentFileAsync(TaskOutcome outcome, TaskDetails details, string? rawPluginTarget, string? error, CancellationToken cancellationToken)
    {
        string contentFile = Path.Combine(_contentDir!, details.TaskId + (details.Base64EncodedContent ? BinaryExtension(details.ResponseHeaders) : rawPluginTarget is not null ? ".json" : _textExtension));
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            WriteContentFile(contentFile, ContentOf(outcome), details.Base64EncodedContent, FlushToDisk);
            _contentFilesToSync |= FlushToDisk;
            AppendRecord(outcome, rawPluginTarget, error, contentFile);
            if (_pending.WrittenCount >= WriteThreshold)
            {
                WritePending();
            }

            return new ValueTask<bool>(true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (_failed is null)
            {
                // A failed sink write sets _failed itself (WritePending), so this one is the content file's.
                _failed = ex;
                FailedInContentDir = true;
            }

            return ValueTask.FromException<bool>(ex);
        }
    }

    /// <summary>
    /// The task's (decoded) content as one file, written synchronously through the file's handle: no stream, no
    /// stream buffer, and no thread-pool hop per write (async file writes on Linux are blocking writes on the pool).
    /// </summary>
    private static void WriteContentFile(string path, ReadOnlySpan<byte> content, bool base64, bool flushToDisk)
    {
        using SafeFileHandle file = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.None);
        WriteContent(file, content, base64);
        if (flushToDisk)
        {
            // Before its record, which the journal may then count as delivered (see FlushToDisk).
            RandomAccess.FlushToDisk(file);
        }
    }

    private static void WriteContent(SafeFileHandle file, ReadOnlySpan<byte> content, bool base64)
    {
        if (!base64)
        {
            RandomAccess.Write(file, content, 0);
            return;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(DecodeChunkBytes);
        try
        {
            long offset = 0;
            while (true)
            {
                // Input chunks are multiples of 4, so every chunk but the last decodes completely.
                int take = Math.Min(content.Length, DecodeChunkBytes / 3 * 4);
                bool final = take == content.Length;
                OperationStatus status = Base64.DecodeFromUtf8(content[..take], buffer, out int consumed, out int written, final);
                if (status is not (OperationStatus.Done or OperationStatus.NeedMoreData) || (consumed == 0 && !final))
                {
                    throw new FormatException($"Task content is flagged Base64EncodedContent but is not valid base64 ({status}).");
                }

                RandomAccess.Write(file, buffer.AsSpan(0, written), offset);
                offset += written;
                content = content[consumed..];
                if (final)
                {
                    if (status != OperationStatus.Done)
                    {
                        throw new FormatException("Task content is flagged Base64EncodedContent but its base64 is truncated.");
                    }

                    return;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The outcome's content as the API returned it: from its lease when the run leases contents (the CLI's runs do:
    /// a record copies the bytes out, so a fresh array per task would only be garbage, and on a page of 85 KB or more
    /// a large-object-heap allocation), else from its details.
    /// </summary>
    private static ReadOnlySpan<byte> ContentOf(TaskOutcome outcome) =>
        outcome.ContentLease is { } lease ? lease.Span : outcome.Details is { } details ? details.Content.Utf8.Span : default;

    /// <summary>Serializes one record (and its newline) into the pending buffer; all of it or, if it throws, none.</summary>
    private void AppendRecord(TaskOutcome outcome, string? rawPluginTarget, string? error, string? contentFile)
    {
        int mark = _pending.WrittenCount;
        try
        {
            SerializeRecord(outcome, rawPluginTarget, error, contentFile);
        }
        catch
        {
            // A record that cannot be serialized (a plugin target that is not JSON, say) leaves no half line behind.
            _json.Reset(_pending);
            _pending.Truncate(mark);
            throw;
        }
    }

    private void SerializeRecord(TaskOutcome outcome, string? rawPluginTarget, string? error, string? contentFile)
    {
        TaskDetails? details = outcome.Details;
        Utf8JsonWriter json = _json;
        json.Reset(_pending);
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
        ReadOnlySpan<byte> content = ContentOf(outcome);
        if (details is not null && contentFile is null && !content.IsEmpty)
        {
            // The content goes straight into the pending buffer (see AppendContent); the writer carries on after it.
            json.Flush();
            AppendContent(content);
        }
        else
        {
            json.WriteNull("content"u8);
        }

        WriteNullable(json, "contentFile"u8, contentFile);
        WriteNullable(json, "error"u8, error);
        json.WriteEndObject();
        json.Flush();
        _pending.GetSpan(1)[0] = (byte)'\n';
        _pending.Advance(1);
    }

    /// <summary>
    /// Appends <c>,"content":"…"</c>: the content is escaped by the contract's encoder in one pass straight into the
    /// pending buffer, where runs that need no escaping (most of a page) are copied as they are. Byte for byte what
    /// <c>Utf8JsonWriter.WriteString</c> writes with the same encoder (it calls the same <c>EncodeUtf8</c>), without
    /// its separate scan, its scratch buffer of six times the content and its second copy; pinned by
    /// RecordWriterGoldenTests. The writer never sees the property, so it adds the comma before the next one itself.
    /// </summary>
    private void AppendContent(ReadOnlySpan<byte> content)
    {
        ReadOnlySpan<byte> prefix = ",\"content\":\""u8;
        Span<byte> span = _pending.GetSpan(prefix.Length + content.Length + 1);
        prefix.CopyTo(span);
        _pending.Advance(prefix.Length);
        while (true)
        {
            OperationStatus status = Encoder.EncodeUtf8(content, _pending.GetSpan(content.Length + 1), out int consumed, out int written);
            _pending.Advance(written);
            content = content[consumed..];
            if (status == OperationStatus.Done)
            {
                break;
            }

            if (status != OperationStatus.DestinationTooSmall)
            {
                // Not reachable for content read from JSON (valid UTF-8); Utf8JsonWriter would refuse it the same way.
                throw new ArgumentException("The task content is not valid UTF-8.");
            }

            // Escapes grow the text: ask for room for the rest at up to 6 bytes (\uXXXX) per byte.
            _pending.GetSpan((content.Length * 6) + 1);
        }

        _pending.GetSpan(1)[0] = (byte)'"';
        _pending.Advance(1);
    }

    /// <remarks>
    /// A resume that created --output and ends with nothing in it (refused over a damaged journal or changed options,
    /// a wrong token, interrupted before its first record) removes the file again: it did not exist before, so a
    /// refusal leaves the files as they were, and the next resume creates it anew. (A --content-dir it created stays:
    /// removing a folder is not worth the risk of removing someone's.)
    /// </remarks>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_failed is null)
            {
                Flush();
            }
        }
        catch (IOException)
        {
            // The run already failed or stops on this write; its error is the one reported.
        }
        finally
        {
            await _json.DisposeAsync().ConfigureAwait(false);
            _pending.Dispose();
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

            RemoveIfCreatedEmpty();
        }
    }

    private void RemoveIfCreatedEmpty()
    {
        if (CreatedForResume is { } path && new FileInfo(path) is { Exists: true, Length: 0 })
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Best effort: an error being reported matters more than an empty file.
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

    /// <summary>Records already in the file for one target, and the input lines that target has.</summary>
    private sealed class TargetCount
    {
        public int Records;
        public int InputLines;
    }

    /// <summary>
    /// Counts the records of an existing --output per target, fed the file in chunks: each line's target (its first
    /// field, design.md) and status (before the content) are read from the line's head, the rest of the line is only
    /// scanned for its end, so memory is bounded by the longest target, not the file or its longest record.
    /// </summary>
    private sealed class ExistingRecords(Dictionary<string, TargetCount> counts, IReadOnlySet<string>? knownJobs) : IDisposable
    {
        // A target longer than this cannot be a record this tool wrote (targets are input lines it accepted).
        private const int MaxHead = 4 * 1024 * 1024;
        private static readonly byte[] TargetName = "target"u8.ToArray();
        private static readonly byte[] StatusName = "status"u8.ToArray();
        private static readonly byte[] JobIdName = "jobId"u8.ToArray();
        private readonly PooledBufferWriter _head = new(4096);
        private string? _key; // the current line's target, counted only once its newline shows the record complete
        // Why the current line does not read as a record: said only once its newline shows it complete. A last line
        // without one is torn and cut, whatever it holds (after a power loss, often zeros the file system kept).
        private JsonException? _notARecord;
        private bool _succeeded;
        private long _position;

        public int Records { get; private set; }

        public int NotSucceeded { get; private set; }

        /// <summary>The first job id of a record that is not one of the known jobs (another run's record), or null.</summary>
        public string? ForeignJobId { get; private set; }

        /// <summary>Offset just past the last newline: the end of the last complete record.</summary>
        public long EndOfLastLine { get; private set; }

        public void Feed(ReadOnlySpan<byte> chunk)
        {
            while (!chunk.IsEmpty)
            {
                int newline = chunk.IndexOf((byte)'\n');
                ReadOnlySpan<byte> part = newline < 0 ? chunk : chunk[..newline];
                if (_key is null && _notARecord is null && !part.IsEmpty)
                {
                    _head.Write(part[..Math.Min(part.Length, MaxHead - _head.WrittenCount)]);
                    try
                    {
                        _key = TryHead(lineComplete: false);
                    }
                    catch (JsonException ex)
                    {
                        _notARecord = ex;
                    }

                    if (_key is null && _notARecord is null && _head.WrittenCount >= MaxHead)
                    {
                        _notARecord = new JsonException($"a record's target is longer than {MaxHead} bytes");
                    }
                }

                if (newline < 0)
                {
                    _position += chunk.Length;
                    return;
                }

                if (_notARecord is not null)
                {
                    throw _notARecord;
                }

                _position += newline + 1;
                EndOfLastLine = _position;
                if (_key is null && _head.WrittenCount > 0)
                {
                    _key = TryHead(lineComplete: true);
                }

                if (_key is not null)
                {
                    TargetCount seen = counts.GetValueOrDefault(_key) ?? (counts[_key] = new TargetCount());
                    seen.Records++;
                    Records++;
                    NotSucceeded += _succeeded ? 0 : 1;
                }

                _head.Clear();
                _key = null;
                chunk = chunk[(newline + 1)..];
            }
        }

        public void Dispose() => _head.Dispose();

        /// <summary>The line's target once its head holds it and the status after it; null while it does not yet.</summary>
        private string? TryHead(bool lineComplete)
        {
            var reader = new Utf8JsonReader(_head.WrittenSpan, isFinalBlock: lineComplete, state: default);
            if (!reader.Read())
            {
                return Incomplete(lineComplete);
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException("a line does not start with a JSON object");
            }

            if (!reader.Read())
            {
                return Incomplete(lineComplete);
            }

            if (reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals(TargetName))
            {
                throw new JsonException("a record's first field is not \"target\"");
            }

            if (!reader.Read())
            {
                return Incomplete(lineComplete);
            }

            string key;
            if (reader.TokenType == JsonTokenType.String)
            {
                key = reader.GetString()!;
            }
            else if (reader.TokenType == JsonTokenType.StartObject)
            {
                int start = (int)reader.TokenStartIndex;
                if (!reader.TrySkip())
                {
                    return Incomplete(lineComplete);
                }

                key = PluginParams.FromJson(System.Text.Encoding.UTF8.GetString(_head.WrittenSpan[start..(int)reader.BytesConsumed])).ToString();
            }
            else
            {
                throw new JsonException("a record's target is neither a string nor a plugin's parameters");
            }

            // The status follows the ids (design.md's field order); anything before it is skipped, not assumed.
            while (true)
            {
                if (!reader.Read())
                {
                    return Incomplete(lineComplete);
                }

                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    throw new JsonException("a record has no \"status\"");
                }

                if (knownJobs is not null && ForeignJobId is null && reader.ValueTextEquals(JobIdName))
                {
                    if (!reader.Read())
                    {
                        return Incomplete(lineComplete);
                    }

                    // Checked as read, so nothing is kept per record: only the first stranger is remembered.
                    if (reader.TokenType == JsonTokenType.String && reader.GetString() is { } jobId && !knownJobs.Contains(jobId))
                    {
                        ForeignJobId = jobId;
                    }

                    continue;
                }

                if (reader.ValueTextEquals(StatusName))
                {
                    if (!reader.Read())
                    {
                        return Incomplete(lineComplete);
                    }

                    _succeeded = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("success"u8);
                    return key;
                }

                if (!reader.TrySkip())
                {
                    return Incomplete(lineComplete);
                }
            }
        }

        private static string? Incomplete(bool lineComplete) =>
            lineComplete ? throw new JsonException("a line ends before its record's target and status") : null;
    }
}

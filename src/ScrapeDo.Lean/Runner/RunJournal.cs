using System.Text.Json;
using System.Text.Json.Serialization;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// One line of the journal. <c>T</c> is the kind: run, submit, created, done; and since the interrupt resubmission,
/// cancel (this run canceled job <c>job</c> on its own interrupt) and retry (chunk <c>c</c> resubmits the inputs
/// <c>xs</c> whose tasks that cancel stopped). Journals without the newer kinds read as before.
/// </summary>
internal sealed class JournalEntry
{
    [JsonPropertyName("t")]
    public string T { get; init; } = "";

    /// <summary>Chunk index (submit, created).</summary>
    [JsonPropertyName("c")]
    public int? Chunk { get; init; }

    /// <summary>Input index of the chunk's first target (submit) or of the delivered target (done).</summary>
    [JsonPropertyName("x")]
    public long? Index { get; init; }

    /// <summary>Targets in the chunk (submit); chunk size (run).</summary>
    [JsonPropertyName("n")]
    public int? Count { get; init; }

    /// <summary>When the create was sent (submit).</summary>
    [JsonPropertyName("at")]
    public DateTimeOffset? At { get; init; }

    /// <summary>Hash of the chunk's targets, to detect a resume on different input (submit).</summary>
    [JsonPropertyName("h")]
    public string? Hash { get; init; }

    [JsonPropertyName("job")]
    public string? JobId { get; init; }

    [JsonPropertyName("tasks")]
    public IReadOnlyList<string>? TaskIds { get; init; }

    /// <summary>Input indices a retry chunk resubmits (retry).</summary>
    [JsonPropertyName("xs")]
    public IReadOnlyList<long>? Indices { get; init; }

    /// <summary>Why a chunk could not be created (created with no job).</summary>
    [JsonPropertyName("reason")]
    public string? Reason { get; init; }

    /// <summary>Estimated credits of a chunk's created job (spend).</summary>
    [JsonPropertyName("cr")]
    public long? Credits { get; init; }

    /// <summary>
    /// Fingerprint of the run's job options (run), so a resume with other options is refused. Journals written before
    /// it have none and resume without the check.
    /// </summary>
    [JsonPropertyName("o")]
    public string? Options { get; init; }

    /// <summary>
    /// A short digest per job option set (run), <c>Name=digest;…</c> (see <see cref="RunJournal.FingerprintOptions"/>),
    /// so a refused resume can name what changed. Journals written before it have none; the refusal is then generic.
    /// </summary>
    [JsonPropertyName("od")]
    public string? OptionDigests { get; init; }

    /// <summary>The newest job's StartTime when a process took its fence (fence; see <see cref="JobFence"/>).</summary>
    [JsonPropertyName("newest")]
    public DateTimeOffset? Newest { get; init; }

    /// <summary>The jobs a fence names by id (fence).</summary>
    [JsonPropertyName("jobs")]
    public IReadOnlyList<string>? JobIds { get; init; }
}

/// <summary>Another process holds the journal (its lock); an <see cref="InvalidOperationException"/>, as it always was, of
/// a type of its own so the CLI can name its flag.</summary>
internal sealed class JournalInUseException(string message, Exception inner) : InvalidOperationException(message, inner);

/// <summary>A run's job options as the journal records them: one fingerprint, and a digest per option set.</summary>
internal readonly record struct OptionsFingerprint(string Hash, string? Digests);

/// <summary>
/// Append-only JSON-lines journal of a run: chunk → submitted → JobID and TaskIDs, and each delivered input index.
/// Submits and creates are flushed to disk before the run acts on them (a crash can never lose the fact that a
/// create was sent); delivery marks are written to the OS, which survives kill -9. A torn last line is ignored.
/// </summary>
/// <remarks>
/// <para>One process at a time: the journal is held with an exclusive OS lock (a sibling <c>.lock</c> file opened
/// without sharing, which .NET maps to <c>flock</c> on Unix), so a second process fails at once; the lock dies with
/// its process, so a crash never leaves it held.</para>
/// <para>Writes are unbuffered (one <c>write</c> per batch of whole lines). A write that fails poisons the journal:
/// nothing more is appended after a possibly torn line, so a resume cuts that line and reads every earlier one.</para>
/// <para>State lives in <see cref="JournalState"/>, which owns it and bounds its memory; resume reads the file as a
/// stream, line by line.</para>
/// </remarks>
internal sealed class RunJournal : IAsyncDisposable
{
    private const int ReadBufferSize = 64 * 1024;
    private readonly FileStream _file;
    private readonly FileStream _lockFile;
    private readonly string _path;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly JournalState _state = new();
    private Stream _writer = null!;
    private Exception? _failed;

    // The journal's folder (and its parent when this process made it): synced with the first durable write (see
    // DirectoryEntries).
    private string[]? _foldersToSync;
    private string? _options;
    private string? _optionDigests;

    /// <summary>Where a failed write is logged (event 1104) before it stops the run.</summary>
    public Microsoft.Extensions.Logging.ILogger Logger { get; set; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    private RunJournal(FileStream file, FileStream lockFile, string path)
    {
        _file = file;
        _lockFile = lockFile;
        _path = path;
    }

    /// <summary>For tests: wraps the write stream of the journal at a given full path (e.g. one that fails like a full disk).</summary>
    internal static Func<string, Stream, Stream>? TestStreamWrapper { get; set; }

    public int? ChunkSize => _state.ChunkSize;

    /// <summary>The journal's state, for lookups.</summary>
    public JournalState State => _state;

    public bool TryGetChunk(int chunk, out JournalChunk? copy) => _state.TryGetChunk(chunk, out copy);

    public bool IsDelivered(long inputIndex) => _state.IsDelivered(inputIndex);

    /// <summary>Estimated credits per chunk whose job was created (spend entries; issue 16).</summary>
    public Dictionary<int, long> Spent { get; } = [];

    /// <summary>
    /// Opens (or, with <paramref name="resume"/>, loads) the journal at <paramref name="path"/>. A new journal records
    /// <paramref name="chunkSize"/> and <paramref name="options"/> (see <see cref="HashOptions"/>); a resumed one is
    /// refused when either differs from what it recorded, since its jobs already exist with those settings and one
    /// output would otherwise mix two. A journal that records no options fingerprint (written before it existed)
    /// resumes without that check.
    /// </summary>
    public static Task<RunJournal> OpenAsync(string path, bool resume, int chunkSize, CancellationToken cancellationToken, string? options = null) =>
        OpenAsync(path, resume, chunkSize, options is null ? null : new OptionsFingerprint(options, null), cancellationToken);

    /// <inheritdoc cref="OpenAsync(string, bool, int, CancellationToken, string?)"/>
    public static async Task<RunJournal> OpenAsync(string path, bool resume, int chunkSize, OptionsFingerprint? fingerprint, CancellationToken cancellationToken)
    {
        string? options = fingerprint?.Hash;
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        bool madeFolder = false;
        if (dir is not null)
        {
            madeFolder = !Directory.Exists(dir);
            Directory.CreateDirectory(dir);
        }

        FileStream lockFile;
        try
        {
            // FileShare.None takes an exclusive flock on Unix (LockFileEx on Windows): a second process fails here.
            lockFile = new FileStream(LockPath(full), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException ex) when (IsSharingViolation(ex))
        {
            // The plain IOException of a sharing violation (subclasses are path problems, reported as they are).
            throw new JournalInUseException($"The journal '{path}' is in use by another run; only one process may use a journal at a time.", ex);
        }

        FileStream file;
        try
        {
            file = new FileStream(full, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous);
        }
        catch
        {
            await lockFile.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var journal = new RunJournal(file, lockFile, path);
        // Every process syncs the journal's folder once (a journal left by a process that died before its first durable
        // write may never have had its name synced), and the folder's own entry when this process made the folder.
        if (dir is not null)
        {
            journal._foldersToSync = madeFolder && Path.GetDirectoryName(dir) is { } parent ? [dir, parent] : [dir];
        }

        try
        {
            if (file.Length > 0)
            {
                if (!resume)
                {
                    throw new InvalidOperationException($"The journal '{path}' already records a run. Resume it, or remove the file to start a new run.");
                }

                long validLength = await journal.LoadAsync(cancellationToken).ConfigureAwait(false);
                if (journal.ChunkSize is int recorded && recorded != chunkSize)
                {
                    throw new InvalidOperationException($"The journal '{path}' was written with {recorded} targets per job, not {chunkSize}; resume with the same settings.");
                }

                if (journal._options is { } recordedOptions && options is not null && recordedOptions != options)
                {
                    string changed = DifferingOptions(journal._optionDigests, fingerprint?.Digests) is { Length: > 0 } names
                        ? $"({names} changed)"
                        : "(render, country, headers, output format or another job option)";
                    throw new InvalidOperationException($"The job options differ from those the journal '{path}' was written with {changed}; resume with the same job options, or start a new journal.");
                }

                // Cut a torn last line so new entries start on a line of their own.
                file.SetLength(validLength);
                file.Seek(validLength, SeekOrigin.Begin);
            }

            journal._writer = TestStreamWrapper?.Invoke(full, file) ?? file;
            if (journal.ChunkSize is null)
            {
                await journal.AppendAsync([new JournalEntry { T = "run", Count = chunkSize, Options = options, OptionDigests = fingerprint?.Digests }], durable: true, cancellationToken).ConfigureAwait(false);
                journal._state.ChunkSize = chunkSize;
            }

            return journal;
        }
        catch
        {
            await journal.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public Task RecordSubmitAsync(JournalChunk chunk, CancellationToken cancellationToken)
    {
        _state.Submitted(chunk);
        return AppendAsync([new JournalEntry { T = "submit", Chunk = chunk.Chunk, Index = chunk.FirstIndex, Count = chunk.Count, At = chunk.SubmittedAt, Hash = chunk.Hash }], durable: true, cancellationToken);
    }

    /// <summary>
    /// Records that an input chunk was cut before it was full (the input paused), before its <c>submit</c> and any
    /// later chunk's lines, so a resume that reads the input without the pause cuts it at the same place. Not forced to
    /// disk itself: the chunk's own submit, or any later durable line, is, and nothing of it exists before that.
    /// </summary>
    public Task RecordCutAsync(TargetChunk chunk, CancellationToken cancellationToken)
    {
        _state.Cut(chunk.Index, chunk.Items.Count);
        return AppendAsync([new JournalEntry { T = "cut", Chunk = chunk.Index, Index = chunk.FirstIndex, Count = chunk.Items.Count }], durable: false, cancellationToken);
    }

    /// <summary>Records the estimated credits of a chunk's created job, so a resumed run counts them.</summary>
    public Task RecordSpendAsync(int chunk, long credits)
    {
        _state.Spent(chunk, credits);
        return AppendAsync([new JournalEntry { T = "spend", Chunk = chunk, Credits = credits }], durable: true, CancellationToken.None);
    }

    /// <summary>
    /// Records the jobs that existed before this process's first create, ahead of its first submit (whose flush makes
    /// it durable), so a resume can still tell them from the job of a create this process sent and never heard back from.
    /// </summary>
    public Task RecordFenceAsync(JobFence fence, CancellationToken cancellationToken)
    {
        _state.Fenced(fence);
        return AppendAsync([new JournalEntry { T = "fence", At = fence.TakenAt, Newest = fence.NewestStart, JobIds = [.. fence.JobIds] }], durable: false, cancellationToken);
    }

    /// <summary>Records that a submitted chunk was refused for credits and made no job: a resume treats it as never sent.</summary>
    public Task RecordUnsentAsync(int chunk)
    {
        _state.Unsent(chunk);
        return AppendAsync([new JournalEntry { T = "unsent", Chunk = chunk }], durable: true, CancellationToken.None);
    }

    public Task RecordCreatedAsync(JournalChunk chunk, CancellationToken cancellationToken)
    {
        _state.Created(chunk.Chunk, chunk.JobId, chunk.TaskIds, chunk.FailureReason);
        return AppendAsync([new JournalEntry { T = "created", Chunk = chunk.Chunk, JobId = chunk.JobId, TaskIds = chunk.TaskIds, Reason = chunk.FailureReason }], durable: true, cancellationToken);
    }

    /// <summary>Journals, durably and before any cancel is sent, that this run cancels these jobs on its own interrupt.</summary>
    public async Task RecordCanceledByUsAsync(IReadOnlyList<string> jobIds)
    {
        if (jobIds.Count == 0)
        {
            return;
        }

        await AppendAsync([.. jobIds.Select(id => new JournalEntry { T = "cancel", JobId = id })], durable: true, CancellationToken.None).ConfigureAwait(false);
        foreach (string id in jobIds)
        {
            _state.CanceledByUs(id);
        }
    }

    /// <summary>Journals, durably, which inputs retry chunk <paramref name="chunk"/> resubmits, so a crash resumes the same retry.</summary>
    public async Task RecordRetryAsync(int chunk, IReadOnlyList<long> indices)
    {
        await AppendAsync([new JournalEntry { T = "retry", Chunk = chunk, Indices = indices }], durable: true, CancellationToken.None).ConfigureAwait(false);
        _state.Retry(chunk, indices);
    }

    public Task RecordDeliveredAsync(long inputIndex, CancellationToken cancellationToken) => RecordDeliveredAsync([inputIndex], cancellationToken);

    /// <summary>Journals a batch of delivery marks with one write (group commit).</summary>
    public async Task RecordDeliveredAsync(IReadOnlyList<long> inputIndices, CancellationToken cancellationToken)
    {
        var entries = new JournalEntry[inputIndices.Count];
        for (int i = 0; i < entries.Length; i++)
        {
            entries[i] = new JournalEntry { T = "done", Index = inputIndices[i] };
        }

        // The marks count only once written: a failed write must not make this process skip them either.
        await AppendAsync(entries, durable: false, cancellationToken).ConfigureAwait(false);
        foreach (long index in inputIndices)
        {
            _state.Delivered(index);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _file.DisposeAsync().ConfigureAwait(false);
        await _lockFile.DisposeAsync().ConfigureAwait(false);
        _lock.Dispose();
    }

    private async Task AppendAsync(JournalEntry[] entries, bool durable, CancellationToken cancellationToken)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(entries.Length * 32);
        using (var json = new Utf8JsonWriter(buffer))
        {
            foreach (JournalEntry entry in entries)
            {
                JsonSerializer.Serialize(json, entry, ScrapeDoJsonContext.Default.JournalEntry);
                json.Flush();
                json.Reset();
                buffer.GetSpan(1)[0] = (byte)'\n';
                buffer.Advance(1);
            }
        }

        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_failed is not null)
            {
                throw new IOException($"The journal '{_path}' could not be written earlier ({_failed.Message}); the run stopped.", _failed);
            }

            try
            {
                // One write for whole lines, so a crash leaves at most one torn line.
                await _writer.WriteAsync(buffer.WrittenMemory, CancellationToken.None).ConfigureAwait(false);
                if (durable)
                {
                    _file.Flush(flushToDisk: true);
                    if (_foldersToSync is { } folders)
                    {
                        foreach (string folder in folders)
                        {
                            DirectoryEntries.Flush(folder);
                        }

                        _foldersToSync = null;
                    }
                }
                else
                {
                    await _writer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
            {
                _failed = ex;
                Log.JournalFailed(Logger, "write", ex);
                throw new IOException($"The journal '{_path}' could not be written: {ex.Message}", ex);
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Reads the journal line by line through one reusable buffer; returns the length of its whole lines.</summary>
    private Task<long> LoadAsync(CancellationToken cancellationToken)
    {
        _file.Seek(0, SeekOrigin.Begin);
        return Task.FromResult(ReadEntries(_file, _path, Apply, cancellationToken));
    }

    /// <summary>
    /// Hands every whole line of a journal file to <paramref name="apply"/> as an entry, with its line number, through
    /// one reusable buffer; returns the length of the whole lines. A last line without its newline was torn by a crash
    /// and never took effect: it is not read. The runner's resume and the CLI's read-only count both read through this.
    /// </summary>
    /// <exception cref="InvalidDataException">A whole line is not a journal entry.</exception>
    internal static long ReadEntries(Stream file, string path, Action<JournalEntry, int> apply, CancellationToken cancellationToken = default)
    {
        byte[] buffer = new byte[ReadBufferSize];
        int filled = 0;
        long consumed = 0;
        int lineNumber = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (filled == buffer.Length)
            {
                // A line longer than the buffer (a created entry of a big job): grow to hold it.
                Array.Resize(ref buffer, buffer.Length * 2);
            }

            // Read once when a run starts, from a local file: a synchronous read keeps one copy of this loop for both callers.
            int read = file.Read(buffer, filled, buffer.Length - filled);
            if (read == 0)
            {
                return consumed;
            }

            filled += read;
            int start = 0;
            while (true)
            {
                int newline = buffer.AsSpan(start, filled - start).IndexOf((byte)'\n');
                if (newline < 0)
                {
                    break;
                }

                lineNumber++;
                JournalEntry? entry;
                try
                {
                    entry = JsonSerializer.Deserialize(buffer.AsSpan(start, newline), ScrapeDoJsonContext.Default.JournalEntry);
                }
                catch (JsonException ex)
                {
                    throw new InvalidDataException($"The journal '{path}' is damaged at line {lineNumber} ({JsonErrorText.Describe(ex)}); it cannot be resumed safely.", ex);
                }

                apply(entry!, lineNumber);
                start += newline + 1;
                consumed += newline + 1;
            }

            Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
            filled -= start;
        }
    }

    private void Apply(JournalEntry entry, int line)
    {
        switch (entry.T)
        {
            case "run":
                _state.ChunkSize = entry.Count;
                _options = entry.Options;
                _optionDigests = entry.OptionDigests;
                break;
            case "submit" when entry.Chunk is int c && entry.Index is long first && entry.Count is int n && entry.At is { } at:
                _state.Submitted(new JournalChunk { Chunk = c, FirstIndex = first, Count = n, SubmittedAt = at, Hash = entry.Hash ?? "" });
                break;
            case "created" when entry.Chunk is int c && _state.IsKnownChunk(c):
                _state.Created(c, entry.JobId, entry.TaskIds, entry.Reason);
                break;
            case "cut" when entry.Chunk is int c && entry.Count is int n:
                // Only a damaged or hand-edited journal has such a cut: one over the job size would make a resume send a
                // job larger than the run's limit, and a cut of nothing or of a negative chunk cannot come from a run.
                if (c < 0 || n < 1 || n > (_state.ChunkSize ?? int.MaxValue))
                {
                    // A plain message: each number formatted here costs the AOT size probe about 300 bytes.
                    throw new InvalidDataException($"The journal '{_path}' records an impossible cut at line {line} (a negative job, or a job of no targets or of more than the run's job size); it cannot be resumed safely.");
                }

                _state.Cut(c, n);
                break;
            case "spend" when entry.Chunk is int c && entry.Credits is long credits:
                _state.Spent(c, credits);
                break;
            case "unsent" when entry.Chunk is int c:
                _state.Unsent(c);
                break;
            case "done" when entry.Index is long x:
                _state.Delivered(x);
                break;
            case "cancel" when entry.JobId is { } job:
                _state.CanceledByUs(job);
                break;
            case "fence" when entry.At is { } takenAt:
                _state.Fenced(new JobFence(takenAt, entry.Newest, new HashSet<string>(entry.JobIds ?? [], StringComparer.Ordinal)));
                break;
            case "retry" when entry.Chunk is int c && entry.Indices is { } xs:
                _state.Retry(c, xs);
                break;
            default:
                throw new InvalidDataException($"The journal '{_path}' has an entry it does not understand at line {line}.");
        }
    }

    /// <summary>
    /// Whether a live run holds the journal at <paramref name="path"/> (its lock, as <see cref="OpenAsync(string, bool, int, OptionsFingerprint?, CancellationToken)"/>
    /// takes it). Only an existing lock file is opened, never created: one left by a killed run is not held and reads as
    /// free; a path problem reads as free too, for the open to report in its own words.
    /// </summary>
    public static bool IsHeldByAnotherRun(string path)
    {
        try
        {
            using (new FileStream(LockPath(Path.GetFullPath(path)), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1))
            {
            }

            return false;
        }
        catch (IOException ex) when (IsSharingViolation(ex))
        {
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    // Beside the file the path finally names: two spellings of one journal (a symbolic link to it, or to a folder on
    // its path) must take the same lock, or two runs would write one journal at once.
    private static string LockPath(string fullPath) => ResolveLinks(fullPath, depth: 0) + ".lock";

    /// <summary><paramref name="fullPath"/> with every symbolic link on it followed (a path that does not exist yet
    /// keeps its own spelling from the first missing part on).</summary>
    private static string ResolveLinks(string fullPath, int depth)
    {
        // Past this many links followed the path loops; the open then reports the problem in its own words.
        if (depth > 32)
        {
            return fullPath;
        }

        string? parent = Path.GetDirectoryName(fullPath);
        string resolved = parent is null ? fullPath : Path.Combine(ResolveLinks(parent, depth), Path.GetFileName(fullPath));
        try
        {
            // LinkTarget reads the link itself, whatever it points to (a file or a folder).
            return new FileInfo(resolved).LinkTarget is not { } target ? resolved
                : ResolveLinks(Path.GetFullPath(target, Path.GetDirectoryName(resolved) ?? resolved), depth + 1);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return resolved;
        }
    }

    // The plain IOException of a sharing violation (subclasses are path problems, reported as they are).
    private static bool IsSharingViolation(IOException ex) => ex.GetType() == typeof(IOException);

    /// <summary>The fingerprint alone (see <see cref="FingerprintOptions"/>).</summary>
    public static string HashOptions(CreateJobRequest template, string? pluginKey) => FingerprintOptions(template, pluginKey).Hash;

    /// <summary>
    /// A stable fingerprint of a run's job options: FNV-1a 64 over the create body its template writes without targets
    /// (<see cref="CreateJobRequest.JobOptionsForFingerprint"/>), then its headers in ordinal order, then the plugin
    /// key; hex. Beside it, a 32-bit digest of each top-level field of that body, of the headers together, of the
    /// fields that may hold secrets (body, session id, cookies) together and of the plugin, so a refused resume can say
    /// which changed. Only hashes are kept, so header values and cookies never reach the journal, and no secret gets a
    /// digest of its own.
    /// </summary>
    public static OptionsFingerprint FingerprintOptions(CreateJobRequest template, string? pluginKey)
    {
        const string SecretFields = "Body/SessionID/SetCookies";
        const ulong Basis = 14695981039346656037UL;
        ulong h = Basis;
        var digests = new System.Text.StringBuilder();
        using (var buffer = new Internal.Http.PooledBufferWriter(256))
        {
            using (var json = new Utf8JsonWriter(buffer))
            {
                CreateJobRequestWriter.Write(json, template.JobOptionsForFingerprint());
            }

            ReadOnlySpan<byte> body = buffer.WrittenSpan;
            h = FnvBytes(h, body);
            var reader = new Utf8JsonReader(body);
            reader.Read();
            ulong secrets = Basis;
            bool anySecret = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                reader.Read();
                int start = (int)reader.TokenStartIndex;
                reader.Skip();
                ReadOnlySpan<byte> value = body[start..(int)reader.BytesConsumed];
                if (name is "Body" or "SessionID" or "SetCookies")
                {
                    // Fields that may hold secrets get one digest together, as the headers do, so none of them can
                    // be confirmed by guessing it alone.
                    secrets = FnvBytes(Fnv(secrets, name), value);
                    anySecret = true;
                }
                else
                {
                    AppendDigest(digests, name, FnvBytes(Basis, value));
                }
            }

            if (anySecret)
            {
                AppendDigest(digests, SecretFields, secrets);
            }
        }

        if (template.Headers is { Count: > 0 } headers)
        {
            // A hand insertion sort of the few names: Array.Sort with a comparer and a spread of the key collection
            // brought about 20 KB of generic code into a native app for this one use.
            var names = new string[headers.Count];
            int count = 0;
            foreach (KeyValuePair<string, string> header in headers)
            {
                int at = count++;
                for (; at > 0 && string.CompareOrdinal(names[at - 1], header.Key) > 0; at--)
                {
                    names[at] = names[at - 1];
                }

                names[at] = header.Key;
            }

            ulong headersOnly = Basis;
            foreach (string name in names)
            {
                h = Fnv(Fnv(h, name), headers[name]);
                headersOnly = Fnv(Fnv(headersOnly, name), headers[name]);
            }

            AppendDigest(digests, "Headers", headersOnly);
        }

        if (pluginKey is not null)
        {
            AppendDigest(digests, "Plugin", Fnv(Basis, pluginKey));
        }

        return new OptionsFingerprint(Fnv(h, pluginKey ?? "").ToString("x16", System.Globalization.CultureInfo.InvariantCulture), digests.ToString());

        // Each string is closed by a separator, so ("ab", "c") and ("a", "bc") differ.
        static ulong Fnv(ulong h, string text)
        {
            h = (h ^ '\n') * 1099511628211UL;
            foreach (char c in text)
            {
                h = (h ^ c) * 1099511628211UL;
            }

            return h;
        }

        static void AppendDigest(System.Text.StringBuilder digests, string name, ulong hash)
        {
            digests.Append(digests.Length == 0 ? "" : ";").Append(name).Append('=')
                .Append(((uint)(hash ^ (hash >> 32))).ToString("x8", System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private static ulong FnvBytes(ulong h, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            h = (h ^ b) * 1099511628211UL;
        }

        return h;
    }

    /// <summary>
    /// The option sets whose digests differ between a journal's run line and this run (present in one only counts),
    /// as "Render and GeoCode"; empty when either side has none (a journal written before them; a run with no job
    /// options records an empty list).
    /// </summary>
    internal static string DifferingOptions(string? recorded, string? current)
    {
        if (recorded is null || current is null)
        {
            return "";
        }

        var was = Parse(recorded);
        var now = Parse(current);
        var changed = new List<string>();
        foreach ((string name, string digest) in was)
        {
            if (!now.TryGetValue(name, out string? other) || other != digest)
            {
                changed.Add(name);
            }
        }

        foreach (string name in now.Keys)
        {
            if (!was.ContainsKey(name))
            {
                changed.Add(name);
            }
        }

        return changed.Count switch
        {
            0 => "",
            1 => changed[0],
            _ => string.Join(", ", changed.GetRange(0, changed.Count - 1)) + " and " + changed[^1],
        };

        static Dictionary<string, string> Parse(string digests)
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string pair in digests.Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = pair.IndexOf('=');
                if (eq > 0)
                {
                    map[pair[..eq]] = pair[(eq + 1)..];
                }
            }

            return map;
        }
    }

    /// <summary>A stable hash of a chunk's targets (FNV-1a 64 over their UTF-16 code units), hex.</summary>
    public static string HashTargets(IReadOnlyList<string> targets)
    {
        ulong h = 14695981039346656037UL;
        foreach (string t in targets)
        {
            foreach (char c in t)
            {
                h = (h ^ c) * 1099511628211UL;
            }

            h = (h ^ '\n') * 1099511628211UL;
        }

        return h.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }
}

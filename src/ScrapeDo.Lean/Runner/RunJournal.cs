using System.Text.Json;
using System.Text.Json.Serialization;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>One line of the journal. <c>T</c> is the kind: run, submit, created, done.</summary>
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

    /// <summary>Why a chunk could not be created (created with no job).</summary>
    [JsonPropertyName("reason")]
    public string? Reason { get; init; }

    /// <summary>Estimated credits of a chunk's created job (spend).</summary>
    [JsonPropertyName("cr")]
    public long? Credits { get; init; }
}

/// <summary>What a journal says about one chunk.</summary>
internal sealed class JournalChunk
{
    public int Chunk;
    public long FirstIndex;
    public int Count;
    public DateTimeOffset SubmittedAt;
    public string Hash = "";
    public string? JobId;
    public IReadOnlyList<string>? TaskIds;
    public string? FailureReason;
}

/// <summary>
/// Append-only JSON-lines journal of a run: chunk → submitted → JobID and TaskIDs, and each delivered input index.
/// Submits and creates are flushed to disk before the run acts on them (a crash can never lose the fact that a
/// create was sent); delivery marks are flushed to the OS, which survives kill -9. A torn last line is ignored.
/// </summary>
internal sealed class RunJournal : IAsyncDisposable
{
    private readonly FileStream _file;
    private readonly SemaphoreSlim _lock = new(1, 1);

    private RunJournal(FileStream file) => _file = file;

    public Dictionary<int, JournalChunk> Chunks { get; } = [];

    public HashSet<long> Delivered { get; } = [];

    public int? ChunkSize { get; private set; }

    /// <summary>Estimated credits per chunk whose job was created (spend entries; issue 16).</summary>
    public Dictionary<int, long> Spent { get; } = [];

    public static async Task<RunJournal> OpenAsync(string path, bool resume, int chunkSize, CancellationToken cancellationToken)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 4096, FileOptions.Asynchronous);
        var journal = new RunJournal(file);
        try
        {
            if (file.Length > 0)
            {
                if (!resume)
                {
                    throw new InvalidOperationException($"The journal '{path}' already records a run. Resume it, or remove the file to start a new run.");
                }

                long validLength = await journal.LoadAsync(path, cancellationToken).ConfigureAwait(false);
                if (journal.ChunkSize is int recorded && recorded != chunkSize)
                {
                    throw new InvalidOperationException($"The journal '{path}' was written with {recorded} targets per job, not {chunkSize}; resume with the same settings.");
                }

                // Cut a torn last line so new entries start on a line of their own.
                file.SetLength(validLength);
                file.Seek(validLength, SeekOrigin.Begin);
            }

            if (journal.ChunkSize is null)
            {
                await journal.AppendAsync(new JournalEntry { T = "run", Count = chunkSize }, durable: true, cancellationToken).ConfigureAwait(false);
                journal.ChunkSize = chunkSize;
            }

            return journal;
        }
        catch
        {
            await file.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public Task RecordSubmitAsync(JournalChunk chunk, CancellationToken cancellationToken)
    {
        Chunks[chunk.Chunk] = chunk;
        return AppendAsync(new JournalEntry { T = "submit", Chunk = chunk.Chunk, Index = chunk.FirstIndex, Count = chunk.Count, At = chunk.SubmittedAt, Hash = chunk.Hash }, durable: true, cancellationToken);
    }

    public Task RecordCreatedAsync(JournalChunk chunk, CancellationToken cancellationToken) =>
        AppendAsync(new JournalEntry { T = "created", Chunk = chunk.Chunk, JobId = chunk.JobId, TaskIds = chunk.TaskIds, Reason = chunk.FailureReason }, durable: true, cancellationToken);

    /// <summary>Records the estimated credits of a chunk's created job, so a resumed run counts them.</summary>
    public Task RecordSpendAsync(int chunk, long credits)
    {
        Spent[chunk] = credits;
        return AppendAsync(new JournalEntry { T = "spend", Chunk = chunk, Credits = credits }, durable: true, CancellationToken.None);
    }

    /// <summary>Records that a submitted chunk was refused for credits and made no job: a resume treats it as never sent.</summary>
    public Task RecordUnsentAsync(int chunk)
    {
        Chunks.Remove(chunk);
        return AppendAsync(new JournalEntry { T = "unsent", Chunk = chunk }, durable: true, CancellationToken.None);
    }

    public Task RecordDeliveredAsync(long inputIndex, CancellationToken cancellationToken)
    {
        Delivered.Add(inputIndex);
        return AppendAsync(new JournalEntry { T = "done", Index = inputIndex }, durable: false, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _file.DisposeAsync().ConfigureAwait(false);
        _lock.Dispose();
    }

    private async Task AppendAsync(JournalEntry entry, bool durable, CancellationToken cancellationToken)
    {
        byte[] line = JsonSerializer.SerializeToUtf8Bytes(entry, ScrapeDoJsonContext.Default.JournalEntry);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // One write per entry, line and newline together, so a crash leaves at most one torn line.
            byte[] withNewline = new byte[line.Length + 1];
            line.CopyTo(withNewline, 0);
            withNewline[^1] = (byte)'\n';
            await _file.WriteAsync(withNewline, CancellationToken.None).ConfigureAwait(false);
            if (durable)
            {
                _file.Flush(flushToDisk: true);
            }
            else
            {
                await _file.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task<long> LoadAsync(string path, CancellationToken cancellationToken)
    {
        _file.Seek(0, SeekOrigin.Begin);
        byte[] all = new byte[_file.Length];
        await _file.ReadExactlyAsync(all, cancellationToken).ConfigureAwait(false);
        long valid = 0;
        int lineNumber = 0;
        int start = 0;
        while (start < all.Length)
        {
            int newline = Array.IndexOf(all, (byte)'\n', start);
            lineNumber++;
            if (newline < 0)
            {
                // No newline: the last write was torn by a crash. It never took effect.
                break;
            }

            JournalEntry? entry;
            try
            {
                entry = JsonSerializer.Deserialize(all.AsSpan(start, newline - start), ScrapeDoJsonContext.Default.JournalEntry);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"The journal '{path}' is damaged at line {lineNumber} ({ex.Message}); it cannot be resumed safely.", ex);
            }

            Apply(entry!, path, lineNumber);
            start = newline + 1;
            valid = start;
        }

        return valid;
    }

    private void Apply(JournalEntry entry, string path, int line)
    {
        switch (entry.T)
        {
            case "run":
                ChunkSize = entry.Count;
                break;
            case "submit" when entry.Chunk is int c && entry.Index is long first && entry.Count is int n && entry.At is { } at:
                Chunks[c] = new JournalChunk { Chunk = c, FirstIndex = first, Count = n, SubmittedAt = at, Hash = entry.Hash ?? "" };
                break;
            case "created" when entry.Chunk is int c && Chunks.TryGetValue(c, out JournalChunk? chunk):
                chunk.JobId = entry.JobId;
                chunk.TaskIds = entry.TaskIds;
                chunk.FailureReason = entry.Reason;
                break;
            case "spend" when entry.Chunk is int c && entry.Credits is long credits:
                Spent[c] = credits;
                break;
            case "unsent" when entry.Chunk is int c:
                Chunks.Remove(c);
                break;
            case "done" when entry.Index is long x:
                Delivered.Add(x);
                break;
            default:
                throw new InvalidDataException($"The journal '{path}' has an entry it does not understand at line {line}.");
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

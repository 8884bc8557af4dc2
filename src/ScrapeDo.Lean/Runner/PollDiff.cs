using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ScrapeDo.Lean.Internal.Http;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// Reads a get-job answer straight into a diff against one chunk's task table: the same tasks
/// <see cref="SnapshotDiff.FindFinished"/> would name from the parsed <see cref="JobDetails"/>, without building it.
/// Task ids are compared as UTF-8 (positionally first, then through an index of the table), so a task that did not
/// change costs no string, no <see cref="TaskSummary"/> and no list slot.
/// </summary>
/// <remarks>
/// <para>
/// A body is malformed exactly where <see cref="JobDetailsReader"/> finds it malformed (same type checks on every
/// member it reads, JobID and each TaskID required), so the pipeline classifies and the watcher retries it the same
/// way. One instance serves one watch, whose polls are sequential; each read starts from a clean slate, so a retried
/// attempt never sees the previous attempt's half-read body.
/// </para>
/// <para>
/// A buffered body (the usual case: the API sends a length) is read through <see cref="IBufferedBodyReader{T}"/>,
/// which keeps the body as a memo: the <c>TaskIDs</c> array and each task object of the next poll that are
/// byte-identical to the memo's, at the same position, are skipped with one vectorised compare and take the memo's
/// reading instead of being tokenised again. Identical bytes parse identically, so this validates them as well as
/// reading them would; only what changed is tokenised. A streamed body (chunked or compressed) goes through
/// <see cref="Read(ref Utf8JsonReader, Type, JsonSerializerOptions)"/> in full and leaves the memo as it was.
/// </para>
/// </remarks>
internal sealed class PollDiff : JsonConverter<ScrapeDoStatus>, IBufferedBodyReader<ScrapeDoStatus>, IDisposable
{
    private const int StackIdChars = 128;

    // Reader states to resume from after a skipped value: "a member's value just ended" inside the job object, and
    // "a task object just ended" inside its Tasks array. Taken from short prefixes of the same shape, so they carry the
    // serializer's reader options and exactly the nesting the real body has at those points.
    private static readonly JsonReaderOptions ReaderOptions = ToReaderOptions(ScrapeDoJsonContext.Default.Options);
    private static readonly JsonReaderState AfterMemberValue = StateAfter("{\"m\":[]"u8, tokens: 4);
    private static readonly JsonReaderState AfterTaskObject = StateAfter("{\"m\":[{}"u8, tokens: 5);

    private byte[]? _memoBody;
    private TaskLayout _memoTasks = new();
    private Segment _memoTaskIds;
    private TaskLayout _readTasks = new();
    private Segment _readTaskIds;

    private readonly ChunkTasks _tasks;
    // Per table position, what this poll's last reading of the task said: 0 when it was not terminal (or the task was
    // not listed), else its terminal status as a code (TerminalCode). No references, so carrying a run of readings
    // over from the memo is a plain copy with no GC write barrier per task.
    private readonly ushort[] _final;
    private readonly List<ScrapeDoStatus> _oddTerminals = [];
    private IReadOnlyList<string>? _indexedIds;
    private Dictionary<string, int>? _positions;

    public PollDiff(ChunkTasks tasks)
    {
        _tasks = tasks;
        _final = new ushort[tasks.Count];
        TypeInfo = JsonMetadataServices.CreateValueInfo<ScrapeDoStatus>(ScrapeDoJsonContext.Default.Options, this);
    }

    /// <summary>Type info to hand the client's pipeline; it reads into this diff and returns the job's status.</summary>
    public JsonTypeInfo<ScrapeDoStatus> TypeInfo { get; }

    /// <summary>Task objects the last buffered read skipped as byte-identical to the memo's (for tests and diagnostics).</summary>
    internal int SkippedTasks { get; private set; }

    /// <summary>Whether the last buffered read skipped the <c>TaskIDs</c> array as byte-identical to the memo's.</summary>
    internal bool SkippedTaskIds { get; private set; }

    /// <summary>The unclaimed tasks the last read showed terminal, in table order (as <see cref="SnapshotDiff"/> lists them).</summary>
    public List<FinishedTask> Finished { get; } = [];

    public override bool HandleNull => true;

    /// <summary>Gives the memo back to the pool; a diff that is not disposed only leaves it to the collector.</summary>
    public void Dispose() => DropMemo();

    /// <inheritdoc/>
    public ScrapeDoStatus Read(byte[] buffer, int length, out bool keepsBuffer)
    {
        ScrapeDoStatus status;
        try
        {
            status = ReadBuffered(buffer.AsSpan(0, length));
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException)
        {
            // What the serializer does with a converter's value errors, so both paths fail with a JsonException.
            throw new JsonException($"The response holds a value of the wrong form ({ex.Message})", ex);
        }

        // Only a body read to the end becomes the memo: a malformed one throws above and the old memo stays.
        (_memoTasks, _readTasks) = (_readTasks, _memoTasks);
        _memoTaskIds = _readTaskIds;
        byte[]? previous = _memoBody;
        _memoBody = buffer;
        if (previous is not null)
        {
            ArrayPool<byte>.Shared.Return(previous);
        }

        keepsBuffer = true;
        return status;
    }

    public override ScrapeDoStatus Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        // The serializer hands a custom converter the whole value, so every Read below succeeds without more input.
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw JobDetailsReader.Unexpected("the job", reader.TokenType);
        }

        Prepare();
        var job = new JobMembers();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("TaskIDs"u8))
            {
                reader.Read();
                CheckTaskIds(ref reader);
            }
            else if (reader.ValueTextEquals("Tasks"u8))
            {
                reader.Read();
                ReadTasks(ref reader);
            }
            else
            {
                ReadOtherMember(ref reader, ref job);
            }
        }

        return Finish(job);
    }

    /// <summary>
    /// The buffered path: the same reading as the converter's, except that the <c>TaskIDs</c> array and each task
    /// object byte-identical to the memo's at the same place are skipped and take the memo's reading.
    /// </summary>
    private ScrapeDoStatus ReadBuffered(ReadOnlySpan<byte> body)
    {
        Prepare();
        ReadOnlySpan<byte> memo = _memoBody;
        _readTaskIds = default;
        _readTasks.Clear();
        SkippedTasks = 0;
        SkippedTaskIds = false;

        // offset: where the current reader's input starts in body (a skip resumes with a new reader past the value).
        int offset = 0;
        var reader = new Utf8JsonReader(body, ReaderOptions);
        if (!reader.Read())
        {
            throw new JsonException("The response body holds no JSON value.");
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw JobDetailsReader.Unexpected("the job", reader.TokenType);
        }

        var job = new JobMembers();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("TaskIDs"u8))
            {
                reader.Read();
                int start = offset + (int)reader.TokenStartIndex;
                if (reader.TokenType == JsonTokenType.StartArray && _memoTaskIds.Length > 0
                    && body[start..].StartsWith(memo.Slice(_memoTaskIds.Start, _memoTaskIds.Length)))
                {
                    _readTaskIds = new Segment(start, _memoTaskIds.Length);
                    SkippedTaskIds = true;
                    offset = start + _memoTaskIds.Length;
                    reader = new Utf8JsonReader(body[offset..], isFinalBlock: true, AfterMemberValue);
                }
                else
                {
                    CheckTaskIds(ref reader);
                    _readTaskIds = reader.TokenType == JsonTokenType.EndArray ? new Segment(start, offset + (int)reader.BytesConsumed - start) : default;
                }
            }
            else if (reader.ValueTextEquals("Tasks"u8))
            {
                reader.Read();
                ReadTasks(body, memo, ref reader, ref offset);
            }
            else
            {
                ReadOtherMember(ref reader, ref job);
            }
        }

        if (reader.Read())
        {
            // Not reached: a final-block reader throws on anything but whitespace after the value. Kept as a guard.
            throw new JsonException("The response body holds more than one JSON value.");
        }

        return Finish(job);
    }

    /// <summary>Reads the value of a job member other than the two task lists (the reader is on its name).</summary>
    private static void ReadOtherMember(ref Utf8JsonReader reader, ref JobMembers job)
    {
        if (reader.ValueTextEquals("JobID"u8))
        {
            reader.Read();
            job.HasJobId = reader.TokenType switch
            {
                JsonTokenType.String => CheckText(ref reader) > 0,
                JsonTokenType.Null => false,
                _ => throw JobDetailsReader.Unexpected("JobID", reader.TokenType),
            };
        }
        else if (reader.ValueTextEquals("Status"u8))
        {
            reader.Read();
            job.Status = StringValueJsonConverter<ScrapeDoStatus>.ReadValue(ref reader);
        }
        else if (reader.ValueTextEquals("StartTime"u8) || reader.ValueTextEquals("EndTime"u8))
        {
            reader.Read();
            NullableTimestampConverter.ReadValue(ref reader);
        }
        else if (reader.ValueTextEquals("AcquiredConcurrency"u8) || reader.ValueTextEquals("LimitConcurrency"u8))
        {
            reader.Read();
            NullAsDefault.ReadInt32(ref reader, "concurrency");
        }
        else if (reader.ValueTextEquals("Canceled"u8))
        {
            reader.Read();
            NullAsDefault.ReadBoolean(ref reader, "Canceled");
        }
        else
        {
            reader.Read();
            reader.Skip();
        }
    }

    private ScrapeDoStatus Finish(in JobMembers job)
    {
        if (!job.HasJobId)
        {
            throw new JsonException("The response has no JobID.");
        }

        Collect();
        return job.Status;
    }

    public override void Write(Utf8JsonWriter writer, ScrapeDoStatus value, JsonSerializerOptions options) =>
        throw new NotSupportedException("A poll diff is read only.");

    private void Prepare()
    {
        Finished.Clear();
        Array.Clear(_final);
        IReadOnlyList<string> ids = _tasks.TaskIds;
        if (!ReferenceEquals(ids, _indexedIds))
        {
            // Once per chunk (and again only if the first snapshot re-paired tasks and targets).
            (_positions, _indexedIds) = (null, ids);
            // The memo's readings name table positions of the old pairing.
            DropMemo();
        }
    }

    private void DropMemo()
    {
        byte[]? memo = _memoBody;
        (_memoBody, _memoTaskIds) = (null, default);
        _memoTasks.Clear();
        if (memo is not null)
        {
            ArrayPool<byte>.Shared.Return(memo);
        }
    }

    private void Collect()
    {
        ushort[] final = _final;
        for (int i = 0; i < final.Length; i++)
        {
            if (final[i] != 0 && !_tasks.IsClaimed(i))
            {
                Finished.Add(new FinishedTask(i, TerminalStatus(final[i])));
            }
        }
    }

    private static void CheckTaskIds(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw JobDetailsReader.Unexpected("TaskIDs", reader.TokenType);
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                CheckText(ref reader);
            }
            else if (reader.TokenType != JsonTokenType.Null)
            {
                throw JobDetailsReader.Unexpected("TaskIDs[]", reader.TokenType);
            }
        }
    }

    private void ReadTasks(ref Utf8JsonReader reader)
    {
        // A repeated Tasks member replaces the earlier one, as it does in the full read.
        Array.Clear(_final);
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw JobDetailsReader.Unexpected("Tasks", reader.TokenType);
        }

        int position = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.Null:
                    break;
                case JsonTokenType.StartObject:
                    ReadTask(ref reader, position);
                    break;
                default:
                    throw JobDetailsReader.Unexpected("Tasks[]", reader.TokenType);
            }

            position++;
        }
    }

    private void ReadTasks(ReadOnlySpan<byte> body, ReadOnlySpan<byte> memo, ref Utf8JsonReader reader, ref int offset)
    {
        // A repeated Tasks member replaces the earlier one, as it does in the full read.
        Array.Clear(_final);
        _readTasks.Clear();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw JobDetailsReader.Unexpected("Tasks", reader.TokenType);
        }

        TaskLayout known = _memoTasks;
        for (int position = 0; ; position++)
        {
            if (position < known.Count && known.Lengths[position] > 0)
            {
                // The next element starts after whitespace and, past the first, a comma: the only bytes the reader
                // would accept there. Anything else is left to the reader, which then names the problem.
                int at = SkipWhitespace(body, offset + (int)reader.BytesConsumed);
                if (position > 0)
                {
                    at = at < body.Length && body[at] == (byte)',' ? SkipWhitespace(body, at + 1) : -1;
                }

                // One vectorised compare covers a whole run of unchanged tasks: the memo's bytes from this task on
                // (its objects and the separators between them, valid JSON when it was read) against the body's.
                int from = known.Starts[position];
                int same = at < 0 ? 0 : body[at..].CommonPrefixLength(memo[from..]);
                int run = CarryOver(known, position, from + same, at - from);
                if (run > position)
                {
                    SkippedTasks += run - position;
                    offset = at + (known.Starts[run - 1] + known.Lengths[run - 1] - from);
                    reader = new Utf8JsonReader(body[offset..], isFinalBlock: true, AfterTaskObject);
                    position = run - 1;
                    continue;
                }
            }

            if (!reader.Read())
            {
                throw new JsonException("The response ends inside Tasks.");
            }

            switch (reader.TokenType)
            {
                case JsonTokenType.EndArray:
                    return;
                case JsonTokenType.Null:
                    _readTasks.Add(0, 0, default);
                    break;
                case JsonTokenType.StartObject:
                    int start = offset + (int)reader.TokenStartIndex;
                    (int index, ScrapeDoStatus status) = ReadTaskObject(ref reader, position);
                    var reading = new TaskReading(index, TerminalCode(status));
                    Record(reading);
                    _readTasks.Add(start, offset + (int)reader.BytesConsumed - start, reading);
                    break;
                default:
                    throw JobDetailsReader.Unexpected("Tasks[]", reader.TokenType);
            }
        }
    }

    /// <summary>
    /// Takes over the memo's readings of the elements from <paramref name="position"/> on that lie wholly before
    /// <paramref name="end"/> (the end of the bytes identical to the body's), moved by <paramref name="shift"/> bytes;
    /// returns where that run ends. One pass that checks, copies and records each element.
    /// </summary>
    private int CarryOver(TaskLayout known, int position, int end, int shift)
    {
        int count = known.Count;
        int[] starts = known.Starts, lengths = known.Lengths;
        TaskReading[] readings = known.Readings;
        TaskLayout read = _readTasks;
        read.Reserve(count - position);
        int[] readStarts = read.Starts, readLengths = read.Lengths;
        TaskReading[] readReadings = read.Readings;
        int written = read.Count;
        int k = position;
        for (; k < count; k++)
        {
            int start = starts[k], length = lengths[k];
            if (length == 0 || start + length > end)
            {
                break;
            }

            TaskReading task = readings[k];
            (readStarts[written], readLengths[written], readReadings[written]) = (start + shift, length, task);
            written++;
            Record(task);
        }

        read.Count = written;
        return k;
    }

    private static int SkipWhitespace(ReadOnlySpan<byte> body, int at)
    {
        while (at < body.Length && body[at] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            at++;
        }

        return at;
    }

    private void ReadTask(ref Utf8JsonReader reader, int position)
    {
        (int index, ScrapeDoStatus status) = ReadTaskObject(ref reader, position);
        Record(new TaskReading(index, TerminalCode(status)));
    }

    private void Record(TaskReading reading)
    {
        if (reading.Index >= 0)
        {
            // The last reading of a task wins, as it does when the full read lists the same task twice.
            _final[reading.Index] = reading.Final;
        }
    }

    /// <summary>
    /// 0 for a status that is not terminal; otherwise a code <see cref="TerminalStatus"/> turns back into the same
    /// value: 1–3 for the cached success, error and canceled instances (what the converter returns for the lowercase
    /// wire values), higher for another spelling of them (kept as sent, as the full read keeps it).
    /// </summary>
    private ushort TerminalCode(ScrapeDoStatus status)
    {
        if (!status.IsTerminal)
        {
            return 0;
        }

        string? value = status.Value;
        if (ReferenceEquals(value, ScrapeDoStatus.Success.Value))
        {
            return 1;
        }

        if (ReferenceEquals(value, ScrapeDoStatus.Error.Value))
        {
            return 2;
        }

        if (ReferenceEquals(value, ScrapeDoStatus.Canceled.Value))
        {
            return 3;
        }

        // Another spelling of a terminal word (statuses compare ignoring case): each word has a few hundred such
        // spellings at most, so the list stays small however many polls send them, and a code always fits.
        for (int i = 0; i < _oddTerminals.Count; i++)
        {
            if (string.Equals(_oddTerminals[i].Value, value, StringComparison.Ordinal))
            {
                return (ushort)(i + 4);
            }
        }

        _oddTerminals.Add(status);
        return (ushort)(_oddTerminals.Count + 3);
    }

    private ScrapeDoStatus TerminalStatus(ushort code) => code switch
    {
        1 => ScrapeDoStatus.Success,
        2 => ScrapeDoStatus.Error,
        3 => ScrapeDoStatus.Canceled,
        _ => _oddTerminals[code - 4],
    };

    /// <summary>Reads one task object: its table position (-1 when this chunk does not know it) and its status.</summary>
    private (int Index, ScrapeDoStatus Status) ReadTaskObject(ref Utf8JsonReader reader, int position)
    {
        int index = -1;
        bool hasId = false;
        ScrapeDoStatus status = default;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("TaskID"u8))
            {
                reader.Read();
                switch (reader.TokenType)
                {
                    case JsonTokenType.String:
                        hasId = ValueLength(ref reader) > 0;
                        index = hasId ? Find(ref reader, position) : -1;
                        break;
                    case JsonTokenType.Null:
                        (hasId, index) = (false, -1);
                        break;
                    default:
                        throw JobDetailsReader.Unexpected("TaskID", reader.TokenType);
                }
            }
            else if (reader.ValueTextEquals("URL"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    CheckText(ref reader);
                }
                else if (reader.TokenType != JsonTokenType.Null)
                {
                    throw JobDetailsReader.Unexpected("URL", reader.TokenType);
                }
            }
            else if (reader.ValueTextEquals("Status"u8))
            {
                reader.Read();
                // Known values map to cached instances; only an unknown or oddly cased status costs a string.
                status = StringValueJsonConverter<ScrapeDoStatus>.ReadValue(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (!hasId)
        {
            throw new JsonException("The response has no TaskID.");
        }

        return (index, status);
    }

    /// <summary>The table position of the task id under the reader, or -1 for a task this chunk does not know.</summary>
    private int Find(ref Utf8JsonReader reader, int position)
    {
        // The common case: the snapshot lists the tasks in the table's order. Compared with the table's own string, not
        // a UTF-8 copy of each id kept for the purpose (64 bytes a task, allocated once per chunk).
        IReadOnlyList<string> ids = _indexedIds!;
        if (position < ids.Count && JobDetailsReader.Known(ref reader, ids[position]) is not null)
        {
            return position;
        }

        Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup = Positions().GetAlternateLookup<ReadOnlySpan<char>>();
        int length = ValueLength(ref reader);
        char[]? rented = null;
        Span<char> chars = length <= StackIdChars ? stackalloc char[StackIdChars] : (rented = ArrayPool<char>.Shared.Rent(length));
        try
        {
            int written = reader.CopyString(chars);
            return lookup.TryGetValue(chars[..written], out int at) ? at : -1;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private Dictionary<string, int> Positions()
    {
        if (_positions is null)
        {
            IReadOnlyList<string> ids = _indexedIds!;
            var map = new Dictionary<string, int>(ids.Count, StringComparer.Ordinal);
            for (int i = 0; i < ids.Count; i++)
            {
                map.TryAdd(ids[i], i);
            }

            _positions = map;
        }

        return _positions;
    }

    /// <summary>
    /// Fails where the full read's <c>GetString</c> would (text that is not valid UTF-8), without making the string;
    /// returns the value's length in UTF-8 bytes.
    /// </summary>
    private static int CheckText(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            return System.Text.Unicode.Utf8.IsValid(reader.ValueSpan)
                ? reader.ValueSpan.Length
                : throw new JsonException("The response holds text that is not valid UTF-8.");
        }

        // Escaped (Go escapes & < > in URLs): unescaping into a scratch buffer validates it as GetString would.
        int length = ValueLength(ref reader);
        char[]? rented = null;
        Span<char> chars = length <= StackIdChars ? stackalloc char[StackIdChars] : (rented = ArrayPool<char>.Shared.Rent(length));
        try
        {
            reader.CopyString(chars);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }

        return length;
    }

    private static int ValueLength(ref Utf8JsonReader reader) =>
        reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;

    private static JsonReaderOptions ToReaderOptions(JsonSerializerOptions options) => new()
    {
        AllowTrailingCommas = options.AllowTrailingCommas,
        CommentHandling = options.ReadCommentHandling,
        // 0 means the serializer's default depth, which is the reader's default too.
        MaxDepth = options.MaxDepth,
    };

    private static JsonReaderState StateAfter(ReadOnlySpan<byte> prefix, int tokens)
    {
        var reader = new Utf8JsonReader(prefix, isFinalBlock: false, new JsonReaderState(ReaderOptions));
        for (int i = 0; i < tokens; i++)
        {
            reader.Read();
        }

        return reader.CurrentState;
    }

    /// <summary>The job-level members both read paths collect.</summary>
    private struct JobMembers
    {
        public bool HasJobId;
        public ScrapeDoStatus Status;
    }

    /// <summary>Where a value sat in a body.</summary>
    private readonly record struct Segment(int Start, int Length);

    /// <summary>What a task object said: its table position (-1: not this chunk's) and its <see cref="TerminalCode"/>.</summary>
    private readonly record struct TaskReading(int Index, ushort Final);

    /// <summary>
    /// Where each element of a body's Tasks array sat (length 0: a null element, never skipped) and what it said, in
    /// parallel arrays so that a run of unchanged tasks is found over plain ints and carried over in bulk copies.
    /// </summary>
    private sealed class TaskLayout
    {
        public int[] Starts = [];
        public int[] Lengths = [];
        public TaskReading[] Readings = [];

        public int Count { get; set; }

        public void Clear() => Count = 0;

        public void Add(int start, int length, TaskReading reading)
        {
            Grow(Count + 1);
            (Starts[Count], Lengths[Count], Readings[Count]) = (start, length, reading);
            Count++;
        }

        /// <summary>Makes room for <paramref name="more"/> elements past <see cref="Count"/>.</summary>
        public void Reserve(int more) => Grow(Count + more);

        private void Grow(int needed)
        {
            if (needed > Starts.Length)
            {
                int size = Math.Max(Math.Max(needed, 16), Starts.Length * 2);
                Array.Resize(ref Starts, size);
                Array.Resize(ref Lengths, size);
                Array.Resize(ref Readings, size);
            }
        }
    }
}

using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// Reads a get-job answer straight into a diff against one chunk's task table: the same tasks
/// <see cref="SnapshotDiff.FindFinished"/> would name from the parsed <see cref="JobDetails"/>, without building it.
/// Task ids are compared as UTF-8 (positionally first, then through an index of the table), so a task that did not
/// change costs no string, no <see cref="TaskSummary"/> and no list slot.
/// </summary>
/// <remarks>
/// A body is malformed exactly where <see cref="JobDetailsReader"/> finds it malformed (same type checks on every
/// member it reads, JobID and each TaskID required), so the pipeline classifies and the watcher retries it the same
/// way. One instance serves one watch, whose polls are sequential; each read starts from a clean slate, so a retried
/// attempt never sees the previous attempt's half-read body.
/// </remarks>
internal sealed class PollDiff : JsonConverter<ScrapeDoStatus>
{
    private const int StackIdChars = 128;

    private readonly ChunkTasks _tasks;
    private readonly ScrapeDoStatus[] _status;
    private readonly bool[] _present;
    private IReadOnlyList<string>? _indexedIds;
    private byte[][] _utf8Ids = [];
    private Dictionary<string, int>? _positions;

    public PollDiff(ChunkTasks tasks)
    {
        _tasks = tasks;
        _status = new ScrapeDoStatus[tasks.Count];
        _present = new bool[tasks.Count];
        TypeInfo = JsonMetadataServices.CreateValueInfo<ScrapeDoStatus>(ScrapeDoJsonContext.Default.Options, this);
    }

    /// <summary>Type info to hand the client's pipeline; it reads into this diff and returns the job's status.</summary>
    public JsonTypeInfo<ScrapeDoStatus> TypeInfo { get; }

    /// <summary>The unclaimed tasks the last read showed terminal, in table order (as <see cref="SnapshotDiff"/> lists them).</summary>
    public List<FinishedTask> Finished { get; } = [];

    public override bool HandleNull => true;

    public override ScrapeDoStatus Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        // The serializer hands a custom converter the whole value, so every Read below succeeds without more input.
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw JobDetailsReader.Unexpected("the job", reader.TokenType);
        }

        Prepare();
        bool hasJobId = false;
        ScrapeDoStatus status = default;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("JobID"u8))
            {
                reader.Read();
                hasJobId = reader.TokenType switch
                {
                    JsonTokenType.String => CheckText(ref reader) > 0,
                    JsonTokenType.Null => false,
                    _ => throw JobDetailsReader.Unexpected("JobID", reader.TokenType),
                };
            }
            else if (reader.ValueTextEquals("TaskIDs"u8))
            {
                reader.Read();
                CheckTaskIds(ref reader);
            }
            else if (reader.ValueTextEquals("Status"u8))
            {
                reader.Read();
                status = StringValueJsonConverter<ScrapeDoStatus>.ReadValue(ref reader);
            }
            else if (reader.ValueTextEquals("StartTime"u8) || reader.ValueTextEquals("EndTime"u8))
            {
                reader.Read();
                NullableTimestampConverter.ReadValue(ref reader);
            }
            else if (reader.ValueTextEquals("AcquiredConcurrency"u8) || reader.ValueTextEquals("LimitConcurrency"u8))
            {
                reader.Read();
                JobDetailsReader.ReadInt32(ref reader, "concurrency");
            }
            else if (reader.ValueTextEquals("Canceled"u8))
            {
                reader.Read();
                if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                {
                    throw JobDetailsReader.Unexpected("Canceled", reader.TokenType);
                }
            }
            else if (reader.ValueTextEquals("Tasks"u8))
            {
                reader.Read();
                ReadTasks(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (!hasJobId)
        {
            throw new JsonException("The response has no JobID.");
        }

        Collect();
        return status;
    }

    public override void Write(Utf8JsonWriter writer, ScrapeDoStatus value, JsonSerializerOptions options) =>
        throw new NotSupportedException("A poll diff is read only.");

    private void Prepare()
    {
        Finished.Clear();
        Array.Clear(_present);
        IReadOnlyList<string> ids = _tasks.TaskIds;
        if (!ReferenceEquals(ids, _indexedIds))
        {
            // Once per chunk (and again only if the first snapshot re-paired tasks and targets).
            var utf8 = new byte[ids.Count][];
            for (int i = 0; i < utf8.Length; i++)
            {
                utf8[i] = System.Text.Encoding.UTF8.GetBytes(ids[i]);
            }

            (_utf8Ids, _positions, _indexedIds) = (utf8, null, ids);
        }
    }

    private void Collect()
    {
        for (int i = 0; i < _present.Length; i++)
        {
            if (_present[i] && !_tasks.IsClaimed(i) && _status[i].IsTerminal)
            {
                Finished.Add(new FinishedTask(i, _status[i]));
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
        Array.Clear(_present);
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

    private void ReadTask(ref Utf8JsonReader reader, int position)
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

        if (index >= 0)
        {
            _status[index] = status;
            _present[index] = true;
        }
    }

    /// <summary>The table position of the task id under the reader, or -1 for a task this chunk does not know.</summary>
    private int Find(ref Utf8JsonReader reader, int position)
    {
        // The common case: the snapshot lists the tasks in the table's order.
        if (position < _utf8Ids.Length && reader.ValueTextEquals(_utf8Ids[position]))
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
}

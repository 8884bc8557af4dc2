using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace ScrapeDo.Lean.Internal.Json;

/// <summary>
/// Reads the get-job answer into <see cref="JobDetails"/> by hand, with the same rules as the source-generated
/// <c>ScrapeDoJsonContext.Default.JobDetails</c> (exact names, unknown members skipped, the same converters for status
/// and timestamps, the same null handling, ids required) but cheaper: the serializer's nested read keeps a frame stack
/// that it allocates on every call (about 480 bytes on a two-task job, measured), lists are built as exact arrays, and
/// each task id string is shared between <c>TaskIDs</c> and <c>Tasks</c> instead of read twice. Writing still goes
/// through the source-generated context.
/// </summary>
internal sealed class JobDetailsReader : JsonConverter<JobDetails>, Http.IWholeValueReader
{
    /// <summary>Type info to pass to the serializer (or the client's pipeline) instead of the generated one.</summary>
    public static readonly JsonTypeInfo<JobDetails> TypeInfo =
        JsonMetadataServices.CreateValueInfo<JobDetails>(ScrapeDoJsonContext.Default.Options, new JobDetailsReader(null));

    private readonly IKnownTasks? _known;

    private JobDetailsReader(IKnownTasks? known) => _known = known;

    /// <summary>
    /// Type info for a job whose tasks the caller already holds: an id or URL equal to the one <paramref name="known"/>
    /// has at the same position is that string, not a new one. The same values as <see cref="TypeInfo"/> reads; on the
    /// runner's first poll of a 1,000-task job it spares two strings a task (about 190 bytes).
    /// </summary>
    public static JsonTypeInfo<JobDetails> For(IKnownTasks known) =>
        JsonMetadataServices.CreateValueInfo<JobDetails>(ScrapeDoJsonContext.Default.Options, new JobDetailsReader(known));

    public override JobDetails Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        // The serializer hands a custom converter the whole value, so every Read below succeeds without more input.
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Unexpected("the job", reader.TokenType);
        }

        var job = new JobDetails();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("JobID"u8))
            {
                reader.Read();
                job.JobId = ReadString(ref reader, "JobID")!;
            }
            else if (reader.ValueTextEquals("TaskIDs"u8))
            {
                reader.Read();
                job.TaskIds = ReadTaskIds(ref reader, job.Tasks, _known)!;
            }
            else if (reader.ValueTextEquals("Status"u8))
            {
                reader.Read();
                job.Status = StringValueJsonConverter<ScrapeDoStatus>.ReadValue(ref reader);
            }
            else if (reader.ValueTextEquals("StartTime"u8))
            {
                reader.Read();
                job.StartTime = NullableTimestampConverter.ReadValue(ref reader);
            }
            else if (reader.ValueTextEquals("EndTime"u8))
            {
                reader.Read();
                job.EndTime = NullableTimestampConverter.ReadValue(ref reader);
            }
            else if (reader.ValueTextEquals("AcquiredConcurrency"u8))
            {
                reader.Read();
                job.AcquiredConcurrency = NullAsDefault.ReadInt32(ref reader, "AcquiredConcurrency");
            }
            else if (reader.ValueTextEquals("LimitConcurrency"u8))
            {
                reader.Read();
                job.LimitConcurrency = NullAsDefault.ReadInt32(ref reader, "LimitConcurrency");
            }
            else if (reader.ValueTextEquals("Canceled"u8))
            {
                reader.Read();
                job.Canceled = NullAsDefault.ReadBoolean(ref reader, "Canceled");
            }
            else if (reader.ValueTextEquals("Tasks"u8))
            {
                reader.Read();
                job.Tasks = ReadTasks(ref reader, job.TaskIds, _known)!;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        ResponseChecks.RequireId(job.JobId, "JobID");
        return job;
    }

    public override void Write(Utf8JsonWriter writer, JobDetails value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, ScrapeDoJsonContext.Default.JobDetails);

    /// <summary>
    /// A null array stays null here: the model's setter turns it into an empty list, as it does for the serializer.
    /// Null elements are kept as null, as the serializer keeps them.
    /// </summary>
    private static string[]? ReadTaskIds(ref Utf8JsonReader reader, IReadOnlyList<TaskSummary> tasks, IKnownTasks? known)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw Unexpected("TaskIDs", reader.TokenType);
        }

        var items = new ArrayBuilder<string>();
        try
        {
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                // When Tasks came first, the same id at the same position is shared rather than read again.
                string? expected = items.Count < tasks.Count ? tasks[items.Count]?.TaskId : known?.TaskId(items.Count);
                items.Add(Known(ref reader, expected) ?? ReadString(ref reader, "TaskIDs[]")!);
            }

            return items.ToArray();
        }
        finally
        {
            items.Dispose();
        }
    }

    private static TaskSummary[]? ReadTasks(ref Utf8JsonReader reader, IReadOnlyList<string?> taskIds, IKnownTasks? known)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw Unexpected("Tasks", reader.TokenType);
        }

        var items = new ArrayBuilder<TaskSummary>();
        try
        {
            for (int position = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; position++)
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.Null:
                        // Not a task: dropped, so Tasks never holds a null for the runner (or a caller) to trip on.
                        break;
                    case JsonTokenType.StartObject:
                        items.Add(ReadTask(ref reader, position < taskIds.Count ? taskIds[position] : known?.TaskId(position), known?.Url(position)));
                        break;
                    default:
                        throw Unexpected("Tasks[]", reader.TokenType);
                }
            }

            return items.ToArray();
        }
        finally
        {
            items.Dispose();
        }
    }

    private static TaskSummary ReadTask(ref Utf8JsonReader reader, string? knownId, string? knownUrl)
    {
        var task = new TaskSummary();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("TaskID"u8))
            {
                reader.Read();
                task.TaskId = Known(ref reader, knownId) ?? ReadString(ref reader, "TaskID")!;
            }
            else if (reader.ValueTextEquals("URL"u8))
            {
                reader.Read();
                task.Url = Known(ref reader, knownUrl) ?? ReadString(ref reader, "URL");
            }
            else if (reader.ValueTextEquals("Status"u8))
            {
                reader.Read();
                task.Status = StringValueJsonConverter<ScrapeDoStatus>.ReadValue(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        ResponseChecks.RequireId(task.TaskId, "TaskID");
        return task;
    }

    /// <summary><paramref name="expected"/> when the current value is a string exactly equal to it, else null.</summary>
    internal static string? Known(ref Utf8JsonReader reader, string? expected)
    {
        if (expected is null || reader.TokenType != JsonTokenType.String)
        {
            return null;
        }

        // Ids and most URLs are ASCII and arrive unescaped: then the raw bytes equal the string's chars one for one, and
        // a vectorized compare (true only when both sides are ASCII and equal) spares ValueTextEquals's transcoding of
        // the string to UTF-8. Anything else (escaped, split or non-ASCII values, or a mismatch) is decided by the
        // exact compare.
        if (!reader.ValueIsEscaped && !reader.HasValueSequence && System.Text.Ascii.Equals(reader.ValueSpan, expected))
        {
            return expected;
        }

        return reader.ValueTextEquals(expected) ? expected : null;
    }

    /// <summary>A string or null member, as the generated readers take it; anything else is refused.</summary>
    internal static string? ReadString(ref Utf8JsonReader reader, string name) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Null => null,
        _ => throw Unexpected(name, reader.TokenType),
    };

    internal static JsonException Unexpected(string name, JsonTokenType token) =>
        new($"The JSON value for {name} has an unexpected type or range ({token}).");

    /// <summary>Collects items in a pooled buffer and returns them as one exact-size array.</summary>
    private struct ArrayBuilder<T>
    {
        private T[]? _buffer;

        public int Count { get; private set; }

        public void Add(T item)
        {
            if (_buffer is null || Count == _buffer.Length)
            {
                T[] grown = ArrayPool<T>.Shared.Rent(Math.Max(8, Count * 2));
                if (_buffer is not null)
                {
                    _buffer.AsSpan(0, Count).CopyTo(grown);
                    ArrayPool<T>.Shared.Return(_buffer, clearArray: true);
                }

                _buffer = grown;
            }

            _buffer[Count++] = item;
        }

        public readonly T[] ToArray() => Count == 0 ? [] : _buffer.AsSpan(0, Count).ToArray();

        public void Dispose()
        {
            if (_buffer is not null)
            {
                ArrayPool<T>.Shared.Return(_buffer, clearArray: true);
                _buffer = null;
            }
        }
    }
}

/// <summary>The tasks a reader may expect, by position: an equal value read there is the caller's string.</summary>
internal interface IKnownTasks
{
    /// <summary>The task id expected at <paramref name="position"/>, or null.</summary>
    string? TaskId(int position);

    /// <summary>The URL expected at <paramref name="position"/>, or null.</summary>
    string? Url(int position);
}

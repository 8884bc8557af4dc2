using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// The library's reader of a task (the runner's fetches, <see cref="ScrapeDoClient.GetTaskAsync(string, string, CancellationToken)"/>
/// and the webhook receiver), by hand, with the rules of the source-generated
/// <c>ScrapeDoJsonContext.Default.TaskDetails</c> (exact names, unknown members skipped, later duplicates win, the same
/// converters for status, timestamps and content, null handling, ids required) but cheaper per task: the serializer
/// allocates its frame stack on every call for the two nested dictionaries (about 650 bytes a task, measured with the
/// fan-out rig), and well-known header and metadata names are shared instead of read into new strings each time.
/// With <c>pooled</c>, the content is unescaped straight into a rented buffer (<see cref="RunOptions.LeaseContent"/>).
/// </summary>
internal sealed class TaskDetailsReader : JsonConverter<TaskDetails>, Http.IWholeValueReader
{
    // Names the API sends on (nearly) every task; anything else is read into a new string as before.
    private static readonly string[] KnownNames =
    [
        "Content-Type", "Scrape.do-Request-Cost", "Scrape.do-Initial-Status-Code", "Scrape.do-Target-Url", "Scrape.do-Rid",
        "Scrape.do-Auth", "Scrape.do-Remaining-Credits", "Scrape.do-Resolved-Url", "Scrape.do-Cookies", "Content-Length",
        "Date", "Server", "Cache-Control", "Set-Cookie", "Vary", "Content-Encoding",
    ];

    private static readonly byte[][] KnownNamesUtf8 = Array.ConvertAll(KnownNames, System.Text.Encoding.UTF8.GetBytes);

    // Known names whose values repeat from task to task (a content type, a cost, a status code): the last value read
    // for each is kept and shared while the bytes match. Names whose values differ per task (ids, dates, cookies,
    // credits left) are not cached, so a miss never costs more than before.
    private static readonly bool[] RepeatingValue = Array.ConvertAll(KnownNames, n => n is "Content-Type" or "Scrape.do-Request-Cost"
        or "Scrape.do-Initial-Status-Code" or "Scrape.do-Auth" or "Server" or "Cache-Control" or "Vary" or "Content-Encoding");

    private const int MaxCachedValueBytes = 128;
    private static readonly CachedValue?[] LastValues = new CachedValue?[KnownNames.Length];

    // The last map read for each property; a map with the very same (shared) key and value strings is shared too.
    private static SmallStringMap? s_lastHeaders;
    private static SmallStringMap? s_lastMetadata;

    // Readers that expect one task's ids (see Rent): one per fetch in flight, kept for reuse.
    private static readonly TaskDetailsReader?[] Pool = new TaskDetailsReader?[64];

    private bool _pooled;
    private string? _expectedJobId;
    private string? _expectedTaskId;
    private string? _expectedUrl;
    private JsonTypeInfo<TaskDetails>? _info;

    private TaskDetailsReader(bool pooled) => _pooled = pooled;

    /// <summary>The type info that reads through this reader (a rented one).</summary>
    public JsonTypeInfo<TaskDetails> Info => _info ??= JsonMetadataServices.CreateValueInfo<TaskDetails>(ScrapeDoJsonContext.Default.Options, this);

    /// <summary>
    /// A reader for one fetch of task <paramref name="taskId"/> of job <paramref name="jobId"/>: where the body
    /// carries exactly these ids (and <paramref name="url"/>), the caller's strings are used instead of new ones read
    /// from the body. The values are equal either way; only the allocation differs. Give it back with <see cref="Return"/>
    /// once the read is over.
    /// </summary>
    public static TaskDetailsReader Rent(bool pooled, string jobId, string taskId, string? url)
    {
        TaskDetailsReader? reader = null;
        for (int i = 0; i < Pool.Length && reader is null; i++)
        {
            reader = Interlocked.Exchange(ref Pool[i], null);
        }

        reader ??= new TaskDetailsReader(pooled);
        reader._pooled = pooled;
        reader._expectedJobId = jobId;
        reader._expectedTaskId = taskId;
        reader._expectedUrl = url;
        return reader;
    }

    /// <summary>Takes back a reader from <see cref="Rent"/> whose read is over.</summary>
    public static void Return(TaskDetailsReader reader)
    {
        reader._expectedJobId = reader._expectedTaskId = reader._expectedUrl = null;
        for (int i = 0; i < Pool.Length; i++)
        {
            if (Interlocked.CompareExchange(ref Pool[i], reader, null) is null)
            {
                return;
            }
        }
    }

    /// <summary>Contents as exact arrays: what the public <see cref="ScrapeDoClient.GetTaskAsync(string, string, CancellationToken)"/>
    /// and the webhook receiver's <c>ParseAsync</c> read with.</summary>
    public static JsonTypeInfo<TaskDetails> TypeInfo { get; } =
        JsonMetadataServices.CreateValueInfo<TaskDetails>(ScrapeDoJsonContext.Default.Options, new TaskDetailsReader(pooled: false));

    /// <summary>Contents in rented buffers, for <see cref="PooledTaskContent.Detach"/>.</summary>
    public static JsonTypeInfo<TaskDetails> PooledTypeInfo { get; } =
        JsonMetadataServices.CreateValueInfo<TaskDetails>(ScrapeDoJsonContext.Default.Options, new TaskDetailsReader(pooled: true));

    public override TaskDetails Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw JobDetailsReader.Unexpected("the task", reader.TokenType);
        }

        var task = new TaskDetails();
        byte[]? rented = null;
        // The member being read, for the error: the serializer can only say "Path: $" of a value a converter reads whole.
        string? member = null;
        try
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("TaskID"u8))
                {
                    member = "TaskID";
                    reader.Read();
                    task.TaskId = JobDetailsReader.Known(ref reader, _expectedTaskId) ?? JobDetailsReader.ReadString(ref reader, "TaskID")!;
                }
                else if (reader.ValueTextEquals("JobID"u8))
                {
                    member = "JobID";
                    reader.Read();
                    task.JobId = JobDetailsReader.Known(ref reader, _expectedJobId) ?? JobDetailsReader.ReadString(ref reader, "JobID")!;
                }
                else if (reader.ValueTextEquals("URL"u8))
                {
                    member = "URL";
                    reader.Read();
                    task.Url = JobDetailsReader.Known(ref reader, _expectedUrl) ?? JobDetailsReader.ReadString(ref reader, "URL");
                }
                else if (reader.ValueTextEquals("Status"u8))
                {
                    member = "Status";
                    reader.Read();
                    task.Status = StringValueJsonConverter<ScrapeDoStatus>.ReadValue(ref reader);
                }
                else if (reader.ValueTextEquals("StartTime"u8))
                {
                    member = "StartTime";
                    reader.Read();
                    task.StartTime = NullableTimestampConverter.ReadValue(ref reader);
                }
                else if (reader.ValueTextEquals("EndTime"u8))
                {
                    member = "EndTime";
                    reader.Read();
                    task.EndTime = NullableTimestampConverter.ReadValue(ref reader);
                }
                else if (reader.ValueTextEquals("ExpiresAt"u8))
                {
                    member = "ExpiresAt";
                    reader.Read();
                    task.ExpiresAt = NullableTimestampConverter.ReadValue(ref reader);
                }
                else if (reader.ValueTextEquals("UpdateTime"u8))
                {
                    member = "UpdateTime";
                    reader.Read();
                    task.UpdateTime = NullableTimestampConverter.ReadValue(ref reader);
                }
                else if (reader.ValueTextEquals("Base64EncodedContent"u8))
                {
                    member = "Base64EncodedContent";
                    reader.Read();
                    task.Base64EncodedContent = NullAsDefault.ReadBoolean(ref reader, "Base64EncodedContent");
                }
                else if (reader.ValueTextEquals("StatusCode"u8))
                {
                    member = "StatusCode";
                    reader.Read();
                    task.StatusCode = NullAsDefault.ReadInt32(ref reader, "StatusCode");
                }
                else if (reader.ValueTextEquals("ResponseHeaders"u8))
                {
                    member = "ResponseHeaders";
                    reader.Read();
                    task.ResponseHeaders = ReadMap(ref reader, "ResponseHeaders", ref s_lastHeaders);
                }
                else if (reader.ValueTextEquals("Scrape.do"u8))
                {
                    member = "Scrape.do";
                    reader.Read();
                    task.ScrapeDoMetadata = ReadMap(ref reader, "Scrape.do", ref s_lastMetadata);
                }
                else if (reader.ValueTextEquals("Content"u8))
                {
                    member = "Content";
                    reader.Read();
                    if (_pooled)
                    {
                        // A later duplicate replaces an earlier content: its buffer goes back first.
                        ReturnRented(ref rented);
                        task.Content = PooledTaskContent.ReadValue(ref reader, out rented);
                    }
                    else
                    {
                        task.Content = TaskContentJsonConverter.ReadValue(ref reader);
                    }
                }
                else if (reader.ValueTextEquals("ErrorMessage"u8))
                {
                    member = "ErrorMessage";
                    reader.Read();
                    task.ErrorMessage = JobDetailsReader.ReadString(ref reader, "ErrorMessage");
                }
                else if (reader.ValueTextEquals("TraceID"u8))
                {
                    member = "TraceID";
                    reader.Read();
                    task.TraceId = JobDetailsReader.ReadString(ref reader, "TraceID");
                }
                else if (reader.ValueTextEquals("WebhookURL"u8))
                {
                    member = "WebhookURL";
                    reader.Read();
                    task.WebhookUrl = JobDetailsReader.ReadString(ref reader, "WebhookURL");
                }
                else if (reader.ValueTextEquals("WebhookStatus"u8))
                {
                    member = "WebhookStatus";
                    reader.Read();
                    task.WebhookStatus = reader.TokenType == JsonTokenType.Null ? (WebhookDeliveryStatus?)null : StringValueJsonConverter<WebhookDeliveryStatus>.ReadValue(ref reader);
                }
                else if (reader.ValueTextEquals("WebhookRequestTime"u8))
                {
                    member = "WebhookRequestTime";
                    reader.Read();
                    task.WebhookRequestTime = NullableTimestampConverter.ReadValue(ref reader);
                }
                else
                {
                    member = null;
                    reader.Read();
                    reader.Skip();
                }

                // Past the member's value: what the loop's next Read finds wrong (a missing comma, a cut body) is not it.
                member = null;
            }

            // The model's own checks (ids required), as the generated reader runs them.
            ((IJsonOnDeserialized)task).OnDeserialized();
            rented = null;
            return task;
        }
        catch (Exception ex) when (member is not null && ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new JsonException($"The task's {member} could not be read: {ex.Message}", ex);
        }
        finally
        {
            // Only when the read failed: the details (and the content in them) are dropped.
            ReturnRented(ref rented);
        }
    }

    /// <summary>Refused: this reader's type info is for reading only. Delegating to the generated writer would link the
    /// task's whole generated metadata into every app that reads tasks (see <see cref="ScrapeDoJsonContext.TaskDetails"/>),
    /// which is what writing with that type info is for.</summary>
    public override void Write(Utf8JsonWriter writer, TaskDetails value, JsonSerializerOptions options) =>
        throw new NotSupportedException("The library's task reader only reads; write TaskDetails with ScrapeDoJsonContext.Default.TaskDetails.");

    private static void ReturnRented(ref byte[]? rented)
    {
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
            rented = null;
        }
    }

    /// <summary>
    /// A string-to-string object as the serializer reads it: null stays null, null values are kept, a later key
    /// replaces an earlier one's value in its place. Small maps (nearly all) become a <see cref="SmallStringMap"/>.
    /// </summary>
    private static IReadOnlyDictionary<string, string>? ReadMap(ref Utf8JsonReader reader, string name, ref SmallStringMap? last)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw JobDetailsReader.Unexpected(name, reader.TokenType);
        }

        KeyValuePair<string, string>[] scratch = ArrayPool<KeyValuePair<string, string>>.Shared.Rent(SmallStringMap.MaxEntries);
        try
        {
            return ReadMap(ref reader, name, scratch.AsSpan(0, SmallStringMap.MaxEntries), ref last);
        }
        finally
        {
            ArrayPool<KeyValuePair<string, string>>.Shared.Return(scratch, clearArray: true);
        }
    }

    private static IReadOnlyDictionary<string, string> ReadMap(ref Utf8JsonReader reader, string name, Span<KeyValuePair<string, string>> small, ref SmallStringMap? last)
    {
        int count = 0;
        Dictionary<string, string>? large = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            int known = Known(ref reader);
            string key = known >= 0 ? KnownNames[known] : reader.GetString()!;
            reader.Read();
            string value = (known >= 0 && RepeatingValue[known] ? CachedValue.Read(ref reader, ref LastValues[known]) : null)
                ?? JobDetailsReader.ReadString(ref reader, name)!;
            if (large is not null)
            {
                large[key] = value;
                continue;
            }

            int at = SmallStringMap.IndexOf(small[..count], key);
            if (at >= 0)
            {
                small[at] = new(key, value);
            }
            else if (count < small.Length)
            {
                small[count++] = new(key, value);
            }
            else
            {
                large = new Dictionary<string, string>(count * 2, StringComparer.Ordinal);
                foreach (KeyValuePair<string, string> kv in small)
                {
                    large.Add(kv.Key, kv.Value);
                }

                large[key] = value;
            }
        }

        if (large is not null)
        {
            return large;
        }

        if (count == 0)
        {
            return SmallStringMap.Empty;
        }

        // Maps are immutable, so one whose keys and values are the very strings of the last map read is that map.
        SmallStringMap? previous = Volatile.Read(ref last);
        if (previous is not null && previous.HasSameStrings(small[..count]))
        {
            return previous;
        }

        var map = new SmallStringMap(small[..count].ToArray());
        Volatile.Write(ref last, map);
        return map;
    }

    /// <summary>The index in <see cref="KnownNames"/> of the current property name, or -1.</summary>
    private static int Known(ref Utf8JsonReader reader)
    {
        if (reader.HasValueSequence || reader.ValueIsEscaped)
        {
            return -1;
        }

        ReadOnlySpan<byte> name = reader.ValueSpan;
        for (int i = 0; i < KnownNamesUtf8.Length; i++)
        {
            if (name.SequenceEqual(KnownNamesUtf8[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A value string with its UTF-8 bytes, shared while the next value read is the same bytes.</summary>
    private sealed class CachedValue(byte[] utf8, string value)
    {
        private readonly byte[] _utf8 = utf8;
        private readonly string _value = value;

        /// <summary>The current string value, shared with <paramref name="slot"/> when possible; null when it is not a plain string.</summary>
        public static string? Read(ref Utf8JsonReader reader, ref CachedValue? slot)
        {
            if (reader.TokenType != JsonTokenType.String || reader.HasValueSequence || reader.ValueIsEscaped || reader.ValueSpan.Length > MaxCachedValueBytes)
            {
                return null;
            }

            ReadOnlySpan<byte> bytes = reader.ValueSpan;
            CachedValue? cached = Volatile.Read(ref slot);
            if (cached is not null && bytes.SequenceEqual(cached._utf8))
            {
                return cached._value;
            }

            string value = reader.GetString()!;
            Volatile.Write(ref slot, new CachedValue(bytes.ToArray(), value));
            return value;
        }
    }
}

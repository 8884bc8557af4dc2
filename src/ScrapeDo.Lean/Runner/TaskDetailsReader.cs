using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// The runner's reader of a fetched task, by hand, with the rules of the source-generated
/// <c>ScrapeDoJsonContext.Default.TaskDetails</c> (exact names, unknown members skipped, later duplicates win, the same
/// converters for status, timestamps and content, null handling, ids required) but cheaper per task: the serializer
/// allocates its frame stack on every call for the two nested dictionaries (about 650 bytes a task, measured with the
/// fan-out rig), and well-known header and metadata names are shared instead of read into new strings each time.
/// With <c>pooled</c>, the content is unescaped straight into a rented buffer (<see cref="RunOptions.LeaseContent"/>).
/// </summary>
internal sealed class TaskDetailsReader : JsonConverter<TaskDetails>
{
    // Names the API sends on (nearly) every task; anything else is read into a new string as before.
    private static readonly string[] KnownNames =
    [
        "Content-Type", "Scrape.do-Request-Cost", "Scrape.do-Initial-Status-Code", "Scrape.do-Target-Url", "Scrape.do-Rid",
        "Scrape.do-Auth", "Scrape.do-Remaining-Credits", "Scrape.do-Resolved-Url", "Scrape.do-Cookies", "Content-Length",
        "Date", "Server", "Cache-Control", "Set-Cookie", "Vary", "Content-Encoding",
    ];

    private static readonly byte[][] KnownNamesUtf8 = Array.ConvertAll(KnownNames, System.Text.Encoding.UTF8.GetBytes);

    private readonly bool _pooled;

    private TaskDetailsReader(bool pooled) => _pooled = pooled;

    /// <summary>Contents as exact arrays, like the public <see cref="ScrapeDoClient.GetTaskAsync(string, string, CancellationToken)"/>.</summary>
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
        try
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("TaskID"u8))
                {
                    reader.Read();
                    task.TaskId = JobDetailsReader.ReadString(ref reader, "TaskID")!;
                }
                else if (reader.ValueTextEquals("JobID"u8))
                {
                    reader.Read();
                    task.JobId = JobDetailsReader.ReadString(ref reader, "JobID")!;
                }
                else if (reader.ValueTextEquals("URL"u8))
                {
                    reader.Read();
                    task.Url = JobDetailsReader.ReadString(ref reader, "URL");
                }
                else if (reader.ValueTextEquals("Status"u8))
                {
                    reader.Read();
                    task.Status = StringValueJsonConverter<ScrapeDoStatus>.ReadValue(ref reader);
                }
                else if (reader.ValueTextEquals("StartTime"u8))
                {
                    reader.Read();
                    task.StartTime = NullableTimestampConverter.ReadValue(ref reader);
                }
                else if (reader.ValueTextEquals("EndTime"u8))
                {
                    reader.Read();
                    task.EndTime = NullableTimestampConverter.ReadValue(ref reader);
                }
                else if (reader.ValueTextEquals("ExpiresAt"u8))
                {
                    reader.Read();
                    task.ExpiresAt = NullableTimestampConverter.ReadValue(ref reader);
                }
                else if (reader.ValueTextEquals("UpdateTime"u8))
                {
                    reader.Read();
                    task.UpdateTime = NullableTimestampConverter.ReadValue(ref reader);
                }
                else if (reader.ValueTextEquals("Base64EncodedContent"u8))
                {
                    reader.Read();
                    task.Base64EncodedContent = reader.TokenType switch
                    {
                        JsonTokenType.True => true,
                        JsonTokenType.False => false,
                        _ => throw JobDetailsReader.Unexpected("Base64EncodedContent", reader.TokenType),
                    };
                }
                else if (reader.ValueTextEquals("StatusCode"u8))
                {
                    reader.Read();
                    task.StatusCode = JobDetailsReader.ReadInt32(ref reader, "StatusCode");
                }
                else if (reader.ValueTextEquals("ResponseHeaders"u8))
                {
                    reader.Read();
                    task.ResponseHeaders = ReadMap(ref reader, "ResponseHeaders");
                }
                else if (reader.ValueTextEquals("Scrape.do"u8))
                {
                    reader.Read();
                    task.ScrapeDoMetadata = ReadMap(ref reader, "Scrape.do");
                }
                else if (reader.ValueTextEquals("Content"u8))
                {
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
                    reader.Read();
                    task.ErrorMessage = JobDetailsReader.ReadString(ref reader, "ErrorMessage");
                }
                else if (reader.ValueTextEquals("TraceID"u8))
                {
                    reader.Read();
                    task.TraceId = JobDetailsReader.ReadString(ref reader, "TraceID");
                }
                else if (reader.ValueTextEquals("WebhookURL"u8))
                {
                    reader.Read();
                    task.WebhookUrl = JobDetailsReader.ReadString(ref reader, "WebhookURL");
                }
                else if (reader.ValueTextEquals("WebhookStatus"u8))
                {
                    reader.Read();
                    task.WebhookStatus = reader.TokenType == JsonTokenType.Null ? (WebhookDeliveryStatus?)null : StringValueJsonConverter<WebhookDeliveryStatus>.ReadValue(ref reader);
                }
                else if (reader.ValueTextEquals("WebhookRequestTime"u8))
                {
                    reader.Read();
                    task.WebhookRequestTime = NullableTimestampConverter.ReadValue(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            ResponseChecks.RequireId(task.TaskId, "TaskID");
            ResponseChecks.RequireId(task.JobId, "JobID");
            rented = null;
            return task;
        }
        finally
        {
            // Only when the read failed: the details (and the content in them) are dropped.
            ReturnRented(ref rented);
        }
    }

    public override void Write(Utf8JsonWriter writer, TaskDetails value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, ScrapeDoJsonContext.Default.TaskDetails);

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
    private static IReadOnlyDictionary<string, string>? ReadMap(ref Utf8JsonReader reader, string name)
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
            return ReadMap(ref reader, name, scratch.AsSpan(0, SmallStringMap.MaxEntries));
        }
        finally
        {
            ArrayPool<KeyValuePair<string, string>>.Shared.Return(scratch, clearArray: true);
        }
    }

    private static IReadOnlyDictionary<string, string> ReadMap(ref Utf8JsonReader reader, string name, Span<KeyValuePair<string, string>> small)
    {
        int count = 0;
        Dictionary<string, string>? large = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string key = Known(ref reader) ?? reader.GetString()!;
            reader.Read();
            string value = JobDetailsReader.ReadString(ref reader, name)!;
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

        return large ?? (IReadOnlyDictionary<string, string>)new SmallStringMap(small[..count].ToArray());
    }

    private static string? Known(ref Utf8JsonReader reader)
    {
        if (reader.HasValueSequence || reader.ValueIsEscaped)
        {
            return null;
        }

        ReadOnlySpan<byte> name = reader.ValueSpan;
        for (int i = 0; i < KnownNamesUtf8.Length; i++)
        {
            if (name.SequenceEqual(KnownNamesUtf8[i]))
            {
                return KnownNames[i];
            }
        }

        return null;
    }
}

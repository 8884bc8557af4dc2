using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScrapeDo.Lean.Internal.Json;

/// <summary>
/// The source-generated context for the types every app that runs jobs reads or writes: the answers to create, poll
/// (through <see cref="JobDetailsReader"/>), list and cancel, the account, error bodies and the journal. Types only
/// some calls need live in contexts of their own (<see cref="TaskDetailsJsonContext"/>,
/// <see cref="CreateJobRequestJsonContext"/>), reached through the properties below: a context's generated
/// <c>GetTypeInfo(Type)</c> names every type it holds, so using any one of them links the metadata of all (issue 14,
/// target 8).
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    // The real server is written in Go: names are matched exactly as documented (PascalCase).
    PropertyNameCaseInsensitive = false,
    MaxDepth = 32,
    Converters = [typeof(NullableTimestampConverter)])]
[JsonSerializable(typeof(CreateJobResponse))]
[JsonSerializable(typeof(JobDetails))]
[JsonSerializable(typeof(CancelJobResponse))]
[JsonSerializable(typeof(JobListPage))]
[JsonSerializable(typeof(AccountInfo))]
[JsonSerializable(typeof(ApiErrorBody))]
[JsonSerializable(typeof(ScrapeDo.Lean.Internal.Runner.JournalEntry))]
internal sealed partial class ScrapeDoJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The source-generated writer for create bodies, kept for tests and benchmarks that compare it with
    /// <see cref="CreateJobRequestWriter"/> (which the client uses). It lives in its own context so an app that never
    /// asks for it trims its metadata away.
    /// </summary>
    public System.Text.Json.Serialization.Metadata.JsonTypeInfo<CreateJobRequest> CreateJobRequest =>
        CreateJobRequestJsonContext.Default.CreateJobRequest;

    /// <summary>
    /// The source-generated reader and writer of a task, for writing one (the CLI's <c>task get</c>) and as the reference
    /// the hand-written <see cref="Runner.TaskDetailsReader"/> is tested against. Every read in the library (the runner,
    /// <see cref="ScrapeDoClient.GetTaskAsync(string, string, CancellationToken)"/>, the webhook receiver) goes through
    /// that reader, so an app that never writes a task does not link this (107,840 B of the native AOT size probe,
    /// with the list of browser actions below).
    /// </summary>
    public System.Text.Json.Serialization.Metadata.JsonTypeInfo<TaskDetails> TaskDetails =>
        TaskDetailsJsonContext.Default.TaskDetails;

    /// <summary>A list of browser actions as the CLI reads it from <c>--actions</c>; the client writes them by hand.</summary>
    public System.Text.Json.Serialization.Metadata.JsonTypeInfo<IReadOnlyList<BrowserAction>> IReadOnlyListBrowserAction =>
        TaskDetailsJsonContext.Default.IReadOnlyListBrowserAction;
}

/// <summary>
/// Source-generated metadata for the types a runner never hands to the serializer (see
/// <see cref="ScrapeDoJsonContext.TaskDetails"/>), with the options of <see cref="ScrapeDoJsonContext"/>. One context
/// for both rather than one each: a context of its own costs an app that uses both (the CLI) about 4 KB.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    PropertyNameCaseInsensitive = false,
    MaxDepth = 32,
    Converters = [typeof(NullableTimestampConverter)])]
[JsonSerializable(typeof(TaskDetails))]
[JsonSerializable(typeof(IReadOnlyList<BrowserAction>))]
internal sealed partial class TaskDetailsJsonContext : JsonSerializerContext
{
}

/// <summary>Source-generated metadata for <see cref="CreateJobRequest"/>, with the options of <see cref="ScrapeDoJsonContext"/>.</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    PropertyNameCaseInsensitive = false,
    MaxDepth = 32,
    Converters = [typeof(NullableTimestampConverter)])]
[JsonSerializable(typeof(CreateJobRequest))]
internal sealed partial class CreateJobRequestJsonContext : JsonSerializerContext
{
}

/// <summary>
/// Timestamps may come as RFC 3339, as an empty string, or as Go's zero time (<c>0001-01-01T00:00:00Z</c>) for
/// "not yet": the last two mean null.
/// </summary>
internal sealed class NullableTimestampConverter : JsonConverter<DateTimeOffset?>
{
    public override bool HandleNull => true;

    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadValue(ref reader);

    /// <summary>The converter's whole reading rule, shared with hand-written readers (<see cref="JobDetailsReader"/>).</summary>
    public static DateTimeOffset? ReadValue(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"Expected an RFC 3339 timestamp string, got {reader.TokenType}.");
        }

        if (reader.ValueSpan.IsEmpty && !reader.HasValueSequence)
        {
            return null;
        }

        DateTimeOffset value = reader.GetDateTimeOffset();
        return value.UtcTicks == 0 ? null : value;
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        if (value is { } v)
        {
            writer.WriteStringValue(v);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}

/// <summary>
/// The API spec (async-api.md §8.1) says to treat every answer field but the ids and <c>Status</c> as optional and
/// nullable. For a number or a flag the models keep a plain value type (absent already reads as 0 or false), so an
/// explicit <c>null</c> reads as the same default here instead of failing the whole answer: a task whose
/// <c>StatusCode</c> is null is still a task with content, and refusing it would lose the result. One rule, shared by
/// these converters (the generated contexts) and the hand-written readers (<see cref="JobDetailsReader"/>,
/// <see cref="Runner.TaskDetailsReader"/>, the runner's poll diff, <see cref="JobStampsReader"/>), which are tested to
/// read exactly what the generated ones read.
/// </summary>
internal static class NullAsDefault
{
    /// <summary>A 32-bit integer; null is 0; any other token, a fraction or an out-of-range number is refused.</summary>
    public static int ReadInt32(ref Utf8JsonReader reader, string name) => reader.TokenType switch
    {
        JsonTokenType.Null => 0,
        JsonTokenType.Number when reader.TryGetInt32(out int value) => value,
        _ => throw JobDetailsReader.Unexpected(name, reader.TokenType),
    };

    /// <summary>A 64-bit integer; null is 0.</summary>
    public static long ReadInt64(ref Utf8JsonReader reader, string name) => reader.TokenType switch
    {
        JsonTokenType.Null => 0,
        JsonTokenType.Number when reader.TryGetInt64(out long value) => value,
        _ => throw JobDetailsReader.Unexpected(name, reader.TokenType),
    };

    /// <summary>A flag; null is false; a number or a string is refused.</summary>
    public static bool ReadBoolean(ref Utf8JsonReader reader, string name) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False or JsonTokenType.Null => false,
        _ => throw JobDetailsReader.Unexpected(name, reader.TokenType),
    };
}

/// <summary>An answer's integer member: null reads as 0 (<see cref="NullAsDefault"/>).</summary>
internal sealed class NullAsZeroInt32Converter : JsonConverter<int>
{
    public override bool HandleNull => true;

    public override int Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        NullAsDefault.ReadInt32(ref reader, "an integer member");

    public override void Write(Utf8JsonWriter writer, int value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}

/// <summary>An answer's 64-bit integer member: null reads as 0 (<see cref="NullAsDefault"/>).</summary>
internal sealed class NullAsZeroInt64Converter : JsonConverter<long>
{
    public override bool HandleNull => true;

    public override long Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        NullAsDefault.ReadInt64(ref reader, "an integer member");

    public override void Write(Utf8JsonWriter writer, long value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}

/// <summary>An answer's flag: null reads as false (<see cref="NullAsDefault"/>).</summary>
internal sealed class NullAsFalseConverter : JsonConverter<bool>
{
    public override bool HandleNull => true;

    public override bool Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        NullAsDefault.ReadBoolean(ref reader, "a flag");

    public override void Write(Utf8JsonWriter writer, bool value, JsonSerializerOptions options) => writer.WriteBooleanValue(value);
}

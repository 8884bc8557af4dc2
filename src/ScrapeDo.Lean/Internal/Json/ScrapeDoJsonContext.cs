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

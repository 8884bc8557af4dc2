using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScrapeDo.Lean.Internal.Json;

/// <summary>The one source-generated context for every type the client reads or writes.</summary>
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
[JsonSerializable(typeof(TaskDetails))]
[JsonSerializable(typeof(JobListPage))]
[JsonSerializable(typeof(AccountInfo))]
[JsonSerializable(typeof(ApiErrorBody))]
[JsonSerializable(typeof(IReadOnlyList<BrowserAction>))]
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

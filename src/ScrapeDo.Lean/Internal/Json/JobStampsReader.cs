using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace ScrapeDo.Lean.Internal.Json;

/// <summary>A listed job as the runner's fence needs it: its id and when it started.</summary>
internal readonly record struct JobStamp(string JobId, DateTimeOffset? StartTime);

/// <summary>A page of the job listing read as <see cref="JobStamp"/>s.</summary>
internal sealed record JobStampsPage(IReadOnlyList<JobStamp> Jobs, int TotalPages);

/// <summary>
/// Reads a page of the job listing keeping only each job's id and StartTime; everything else, above all the up to
/// 1,000 task summaries of each job, is skipped without being materialised. The runner's fence lists the jobs of the
/// last seconds before its first create, which on a busy account (or the fan-out rig) are a few jobs of 1,000 tasks:
/// read as <see cref="JobListPage"/> that was about 250 bytes a target of garbage; read here, a string a job.
/// Names and rules as the generated context's (exact names, unknown members skipped, the same timestamp converter).
/// </summary>
internal sealed class JobStampsReader : JsonConverter<JobStampsPage>, Http.IWholeValueReader
{
    /// <summary>Type info to pass to the client's pipeline.</summary>
    public static readonly JsonTypeInfo<JobStampsPage> TypeInfo =
        JsonMetadataServices.CreateValueInfo<JobStampsPage>(ScrapeDoJsonContext.Default.Options, new JobStampsReader());

    public override JobStampsPage Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw JobDetailsReader.Unexpected("the job list", reader.TokenType);
        }

        var jobs = new List<JobStamp>();
        int totalPages = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals("Jobs"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null)
                {
                    continue;
                }

                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    throw JobDetailsReader.Unexpected("Jobs", reader.TokenType);
                }

                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    jobs.Add(ReadJob(ref reader));
                }
            }
            else if (reader.ValueTextEquals("TotalPages"u8))
            {
                reader.Read();
                totalPages = NullAsDefault.ReadInt32(ref reader, "TotalPages");
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new JobStampsPage(jobs, totalPages);
    }

    private static JobStamp ReadJob(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw JobDetailsReader.Unexpected("a listed job", reader.TokenType);
        }

        string? id = null;
        DateTimeOffset? start = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals("JobID"u8))
            {
                reader.Read();
                id = reader.TokenType == JsonTokenType.String ? reader.GetString() : throw JobDetailsReader.Unexpected("JobID", reader.TokenType);
            }
            else if (reader.ValueTextEquals("StartTime"u8))
            {
                reader.Read();
                start = NullableTimestampConverter.ReadValue(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new JobStamp(id ?? throw new JsonException("A listed job has no JobID."), start);
    }

    /// <summary>Never written: the page is only ever read.</summary>
    public override void Write(Utf8JsonWriter writer, JobStampsPage value, JsonSerializerOptions options) =>
        throw new NotSupportedException("A page of job stamps is only read.");
}

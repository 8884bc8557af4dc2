using System.Buffers.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// The runner's reading of a create answer: the values the source-generated <see cref="CreateJobResponse"/> reads (same
/// exact names, unknown members skipped, null elements kept, JobID required), except that a <c>TaskIDs</c> array of
/// lowercase UUIDs goes straight into a compact <see cref="TaskIdTable"/>, without a string per task. The runner keeps
/// those ids for the job's whole life, and made as strings here they would be allocated once only to be dropped.
/// Any other array is read as strings, as the generated reader reads it.
/// </summary>
internal sealed class CreateResponseReader : JsonConverter<CreateJobResponse>
{
    private const int UuidLength = 36;

    /// <summary>Type info to hand the client's pipeline instead of the generated one.</summary>
    public static readonly JsonTypeInfo<CreateJobResponse> TypeInfo =
        JsonMetadataServices.CreateValueInfo<CreateJobResponse>(ScrapeDoJsonContext.Default.Options, new CreateResponseReader());

    private CreateResponseReader()
    {
    }

    public override CreateJobResponse Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        // The serializer hands a custom converter the whole value, so every Read below succeeds without more input.
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw JobDetailsReader.Unexpected("the create answer", reader.TokenType);
        }

        var created = new CreateJobResponse();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("JobID"u8))
            {
                reader.Read();
                created.JobId = JobDetailsReader.ReadString(ref reader, "JobID")!;
            }
            else if (reader.ValueTextEquals("Message"u8))
            {
                reader.Read();
                created.Message = JobDetailsReader.ReadString(ref reader, "Message");
            }
            else if (reader.ValueTextEquals("TaskIDs"u8))
            {
                reader.Read();
                created.TaskIds = ReadTaskIds(ref reader)!;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        ResponseChecks.RequireId(created.JobId, "JobID");
        return created;
    }

    public override void Write(Utf8JsonWriter writer, CreateJobResponse value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, ScrapeDoJsonContext.Default.CreateJobResponse);

    private static IReadOnlyList<string>? ReadTaskIds(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw JobDetailsReader.Unexpected("TaskIDs", reader.TokenType);
        }

        // A first pass on a copy of the reader (a struct) decides the form; the second reads the array in it.
        Utf8JsonReader scout = reader;
        int count = 0;
        bool uuids = true;
        while (scout.Read() && scout.TokenType != JsonTokenType.EndArray)
        {
            count++;
            uuids &= TryReadUuid(ref scout, out _);
        }

        if (uuids && count > 0)
        {
            var table = new Guid[count];
            for (int i = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; i++)
            {
                TryReadUuid(ref reader, out table[i]);
            }

            return TaskIdTable.FromUuids(table);
        }

        var ids = new List<string>(count);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            ids.Add(JobDetailsReader.ReadString(ref reader, "TaskIDs[]")!);
        }

        return ids;
    }

    /// <summary>
    /// A string of exactly the lowercase <c>D</c> form of a UUID, unescaped: what <see cref="Guid.ToString()"/> gives
    /// back, so the table hands back the server's own text.
    /// </summary>
    private static bool TryReadUuid(ref Utf8JsonReader reader, out Guid uuid)
    {
        uuid = default;
        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped || reader.HasValueSequence)
        {
            return false;
        }

        ReadOnlySpan<byte> text = reader.ValueSpan;
        if (text.Length != UuidLength || text.IndexOfAnyInRange((byte)'A', (byte)'F') >= 0)
        {
            return false;
        }

        return Utf8Parser.TryParse(text, out uuid, out int consumed, 'D') && consumed == UuidLength;
    }
}

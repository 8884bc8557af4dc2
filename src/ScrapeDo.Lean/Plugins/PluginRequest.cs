using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScrapeDo.Lean;

/// <summary>
/// The <c>Plugin</c> object of a plugin job: which plugin runs and one parameter set per task.
/// </summary>
[JsonConverter(typeof(PluginRequestJsonConverter))]
public sealed class PluginRequest
{
    /// <summary>
    /// Wire name of the field that names the plugin inside <c>Plugin</c>. No public source confirms it
    /// (async-api.md §9.2 and §14 item 4): <c>Key</c> is our placeholder. It lives here and nowhere else so a
    /// confirmed name is a one-line change.
    /// </summary>
    public const string KeyFieldName = "Key";

    /// <summary>Creates a plugin request.</summary>
    /// <param name="key">The plugin key, the sync plugin route (e.g. <c>amazon/pdp</c>, <c>google/search</c>).</param>
    /// <param name="parameters">One parameter set per task, 1 to 1000.</param>
    public PluginRequest(string key, IReadOnlyList<PluginParams> parameters)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentNullException.ThrowIfNull(parameters);
        Key = key;
        Params = parameters;
    }

    /// <summary>The plugin key.</summary>
    public string Key { get; }

    /// <summary>The parameter sets, one task each.</summary>
    public IReadOnlyList<PluginParams> Params { get; }
}

internal sealed class PluginRequestJsonConverter : JsonConverter<PluginRequest>
{
    public override PluginRequest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("Plugin must be a JSON object.");
        }

        string? key = null;
        List<PluginParams> parameters = [];
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string name = reader.GetString()!;
            reader.Read();
            if (name == PluginRequest.KeyFieldName)
            {
                key = reader.GetString();
            }
            else if (name == "Params" && reader.TokenType == JsonTokenType.StartArray)
            {
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    parameters.Add(PluginParamsJsonConverter.ReadObject(ref reader));
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return new PluginRequest(key ?? throw new JsonException($"Plugin needs a '{PluginRequest.KeyFieldName}'."), parameters);
    }

    public override void Write(Utf8JsonWriter writer, PluginRequest value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString(PluginRequest.KeyFieldName, value.Key);
        writer.WriteStartArray("Params"u8);
        foreach (PluginParams p in value.Params)
        {
            writer.WriteRawValue(p.Utf8Json.Span, skipInputValidation: true);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}

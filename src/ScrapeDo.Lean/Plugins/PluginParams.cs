using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScrapeDo.Lean;

/// <summary>
/// One plugin parameter set: a flat JSON object such as <c>{"asin":"B0C7BKZ883","geocode":"us"}</c>, held as its
/// validated UTF-8 JSON so it is written into the request without re-serialising.
/// </summary>
[JsonConverter(typeof(PluginParamsJsonConverter))]
public sealed class PluginParams
{
    private const int MaxParamsBytes = 64 * 1024;

    private PluginParams(byte[] utf8Json) => Utf8Json = utf8Json;

    /// <summary>The parameter object as UTF-8 JSON.</summary>
    public ReadOnlyMemory<byte> Utf8Json { get; }

    /// <summary>
    /// Parses a raw JSON object (the passthrough for plugins without a typed builder).
    /// </summary>
    /// <param name="json">A JSON object whose values are strings, numbers or booleans.</param>
    /// <exception cref="ArgumentException">The text is not such an object; the message says why.</exception>
    public static PluginParams FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return FromUtf8Json(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Parses a raw UTF-8 JSON object; see <see cref="FromJson"/>.</summary>
    /// <param name="utf8Json">The object's UTF-8 bytes.</param>
    public static PluginParams FromUtf8Json(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.Length > MaxParamsBytes)
        {
            throw new ArgumentException($"Plugin params are {utf8Json.Length} bytes; the limit is {MaxParamsBytes}.", nameof(utf8Json));
        }

        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = 4 });
        try
        {
            using JsonDocument doc = JsonDocument.ParseValue(ref reader);
            if (reader.Read())
            {
                throw new ArgumentException("Plugin params must be one JSON object; there is text after it.", nameof(utf8Json));
            }

            return FromElement(doc.RootElement);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"Plugin params are not valid JSON: {ex.Message}", nameof(utf8Json), ex);
        }
    }

    /// <summary>Starts a typed parameter set.</summary>
    public static Builder Create() => new();

    /// <summary>The parameter object as JSON text.</summary>
    public override string ToString() => Encoding.UTF8.GetString(Utf8Json.Span);

    /// <summary>
    /// The first of <paramref name="required"/> that this set leaves out or gives as an empty string, or null when
    /// it has them all (the object holds no null, object or array: <see cref="FromElement"/> refused those).
    /// </summary>
    internal string? MissingParameter(string[] required)
    {
        Span<bool> present = stackalloc bool[required.Length];
        var reader = new Utf8JsonReader(Utf8Json.Span);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            int which = -1;
            for (int i = 0; i < required.Length; i++)
            {
                if (reader.ValueTextEquals(required[i]))
                {
                    which = i;
                    break;
                }
            }

            reader.Read();
            if (which >= 0)
            {
                present[which] = reader.TokenType != JsonTokenType.String || reader.ValueSpan.Length > 0;
            }
        }

        int missing = present.IndexOf(false);
        return missing < 0 ? null : required[missing];
    }

    /// <summary>Checks a parsed object and keeps it compact, so the request body does not depend on the caller's spacing.</summary>
    internal static PluginParams FromElement(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("Plugin params must be a JSON object, e.g. {\"asin\":\"B0C7BKZ883\"}.");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty property in root.EnumerateObject())
        {
            if (property.Name.Length == 0 || !names.Add(property.Name))
            {
                throw new ArgumentException(property.Name.Length == 0 ? "Plugin params have an empty parameter name." : $"Plugin params name '{property.Name}' twice.");
            }

            // A null is not a value the server takes for any parameter, and a job is refused whole for one bad set:
            // one such line would fail up to 999 others in its job.
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                throw new ArgumentException($"Plugin parameter '{property.Name}' is null; give it a value or leave it out.");
            }

            if (property.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
            {
                throw new ArgumentException($"Plugin parameter '{property.Name}' must be a string, number or boolean, not {(property.Value.ValueKind == JsonValueKind.Object ? "StartObject" : "StartArray")}.");
            }
        }

        if (names.Count == 0)
        {
            throw new ArgumentException("Plugin params are an empty object; the plugin needs at least one parameter.");
        }

        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            root.WriteTo(writer);
        }

        return new PluginParams(buffer.WrittenSpan.ToArray());
    }

    /// <summary>Builds a parameter set one typed value at a time.</summary>
    public sealed class Builder
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(128);
        private readonly Utf8JsonWriter _writer;
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);

        internal Builder()
        {
            _writer = new Utf8JsonWriter(_buffer);
            _writer.WriteStartObject();
        }

        /// <summary>Adds a string parameter; null values are skipped.</summary>
        public Builder Add(string name, string? value)
        {
            if (value is not null)
            {
                _writer.WriteString(Name(name), value);
            }

            return this;
        }

        /// <summary>Adds a numeric parameter; null values are skipped.</summary>
        public Builder Add(string name, long? value)
        {
            if (value is long v)
            {
                _writer.WriteNumber(Name(name), v);
            }

            return this;
        }

        /// <summary>Adds a boolean parameter; null values are skipped.</summary>
        public Builder Add(string name, bool? value)
        {
            if (value is bool v)
            {
                _writer.WriteBoolean(Name(name), v);
            }

            return this;
        }

        /// <summary>Finishes the parameter set.</summary>
        public PluginParams Build()
        {
            if (_names.Count == 0)
            {
                throw new InvalidOperationException("Plugin params need at least one parameter.");
            }

            _writer.WriteEndObject();
            _writer.Flush();
            return new PluginParams(_buffer.WrittenSpan.ToArray());
        }

        private string Name(string name)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name);
            if (!_names.Add(name))
            {
                throw new ArgumentException($"Plugin parameter '{name}' was added twice.", nameof(name));
            }

            return name;
        }
    }

    internal static string Required(string? value, string name) =>
        string.IsNullOrWhiteSpace(value) ? throw new ArgumentException($"Plugin parameter '{name}' is required.", name) : value;

}

internal sealed class PluginParamsJsonConverter : JsonConverter<PluginParams>
{
    public override PluginParams Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadObject(ref reader);

    internal static PluginParams ReadObject(ref Utf8JsonReader reader)
    {
        using JsonDocument doc = JsonDocument.ParseValue(ref reader);
        try
        {
            return PluginParams.FromElement(doc.RootElement);
        }
        catch (ArgumentException ex)
        {
            throw new JsonException(ex.Message, ex);
        }
    }

    public override void Write(Utf8JsonWriter writer, PluginParams value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Utf8Json.Span, skipInputValidation: true);
}

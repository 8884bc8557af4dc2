using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScrapeDo.Lean.Internal.Json;

/// <summary>An open set of string values (a status, a device name …) that keeps values it does not know.</summary>
internal interface IStringValue<TSelf> where TSelf : struct, IStringValue<TSelf>
{
    string? Value { get; }

    static abstract TSelf FromString(string value);

    /// <summary>Maps a known UTF-8 value to its cached instance so hot paths (job polls) allocate no string.</summary>
    static abstract bool TryGetKnown(ReadOnlySpan<byte> utf8, out TSelf value);
}

internal sealed class StringValueJsonConverter<T> : JsonConverter<T> where T : struct, IStringValue<T>
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadValue(ref reader);

    /// <summary>The converter's whole reading rule, shared with hand-written readers (<see cref="JobDetailsReader"/>).</summary>
    public static T ReadValue(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"Expected a JSON string for {typeof(T).Name}, got {reader.TokenType}.");
        }

        if (!reader.HasValueSequence && !reader.ValueIsEscaped && T.TryGetKnown(reader.ValueSpan, out T known))
        {
            return known;
        }

        return T.FromString(reader.GetString()!);
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Value ?? string.Empty);
}

// Same shape as every open string set in Models/: change them together.
using System.Text.Json.Serialization;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean;

/// <summary>Format of the scraped content. Compared by ordinal value; values the client does not know are kept as sent.</summary>
[JsonConverter(typeof(StringValueJsonConverter<OutputFormat>))]
public readonly struct OutputFormat : IEquatable<OutputFormat>, IStringValue<OutputFormat>
{
    private readonly string? _value;

    /// <summary>Wraps any value, known or not.</summary>
    public OutputFormat(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _value = value;
    }

    /// <summary>The page as served (API default).</summary>
    public static readonly OutputFormat Raw = new("raw");

    /// <summary>The page converted to Markdown.</summary>
    public static readonly OutputFormat Markdown = new("markdown");

    /// <summary>The wire value (null for <c>default</c>).</summary>
    public string? Value => _value;

    /// <summary>Compares two values ordinally.</summary>
    public static bool operator ==(OutputFormat left, OutputFormat right) => left.Equals(right);

    /// <summary>Compares two values ordinally.</summary>
    public static bool operator !=(OutputFormat left, OutputFormat right) => !left.Equals(right);

    /// <summary>Converts a wire value.</summary>
    public static implicit operator OutputFormat(string value) => FromString(value);

    /// <inheritdoc/>
    public bool Equals(OutputFormat other) => string.Equals(_value, other._value, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is OutputFormat other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _value is null ? 0 : StringComparer.Ordinal.GetHashCode(_value);

    /// <summary>The wire value, or an empty string for <c>default</c>.</summary>
    public override string ToString() => _value ?? string.Empty;

    /// <summary>Returns the cached instance for a known value, otherwise wraps the value.</summary>
    public static OutputFormat FromString(string value) => value switch
    {
            "raw" => Raw,
            "markdown" => Markdown,
            _ => new OutputFormat(value),
    };

    static bool IStringValue<OutputFormat>.TryGetKnown(ReadOnlySpan<byte> utf8, out OutputFormat value)
    {
        if (utf8.SequenceEqual("raw"u8)) { value = Raw; return true; }
        if (utf8.SequenceEqual("markdown"u8)) { value = Markdown; return true; }
        value = default;
        return false;
    }
}

// Same shape as every open string set in Models/: change them together.
using System.Text.Json.Serialization;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean;

/// <summary>Navigation event a rendered page waits for. Compared by ordinal value; values the client does not know are kept as sent.</summary>
[JsonConverter(typeof(StringValueJsonConverter<WaitUntilEvent>))]
public readonly struct WaitUntilEvent : IEquatable<WaitUntilEvent>, IStringValue<WaitUntilEvent>
{
    private readonly string? _value;

    /// <summary>Wraps any value, known or not.</summary>
    public WaitUntilEvent(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _value = value;
    }

    /// <summary>DOMContentLoaded (API default).</summary>
    public static readonly WaitUntilEvent DomContentLoaded = new("domcontentloaded");

    /// <summary>No network connections for 500 ms.</summary>
    public static readonly WaitUntilEvent NetworkIdle0 = new("networkidle0");

    /// <summary>At most two network connections for 500 ms.</summary>
    public static readonly WaitUntilEvent NetworkIdle2 = new("networkidle2");

    /// <summary>The wire value (null for <c>default</c>).</summary>
    public string? Value => _value;

    /// <summary>Compares two values ordinally.</summary>
    public static bool operator ==(WaitUntilEvent left, WaitUntilEvent right) => left.Equals(right);

    /// <summary>Compares two values ordinally.</summary>
    public static bool operator !=(WaitUntilEvent left, WaitUntilEvent right) => !left.Equals(right);

    /// <summary>Converts a wire value.</summary>
    public static implicit operator WaitUntilEvent(string value) => FromString(value);

    /// <inheritdoc/>
    public bool Equals(WaitUntilEvent other) => string.Equals(_value, other._value, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is WaitUntilEvent other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _value is null ? 0 : StringComparer.Ordinal.GetHashCode(_value);

    /// <summary>The wire value, or an empty string for <c>default</c>.</summary>
    public override string ToString() => _value ?? string.Empty;

    /// <summary>Returns the cached instance for a known value, otherwise wraps the value.</summary>
    public static WaitUntilEvent FromString(string value) => value switch
    {
            "domcontentloaded" => DomContentLoaded,
            "networkidle0" => NetworkIdle0,
            "networkidle2" => NetworkIdle2,
            _ => new WaitUntilEvent(value),
    };

    static bool IStringValue<WaitUntilEvent>.TryGetKnown(ReadOnlySpan<byte> utf8, out WaitUntilEvent value)
    {
        if (utf8.SequenceEqual("domcontentloaded"u8)) { value = DomContentLoaded; return true; }
        if (utf8.SequenceEqual("networkidle0"u8)) { value = NetworkIdle0; return true; }
        if (utf8.SequenceEqual("networkidle2"u8)) { value = NetworkIdle2; return true; }
        value = default;
        return false;
    }
}

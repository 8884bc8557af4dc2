// Same shape as every open string set in Models/: change them together.
using System.Text.Json.Serialization;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean;

/// <summary>HTTP method used against each target. Compared by ordinal value; values the client does not know are kept as sent.</summary>
[JsonConverter(typeof(StringValueJsonConverter<TargetMethod>))]
public readonly struct TargetMethod : IEquatable<TargetMethod>, IStringValue<TargetMethod>
{
    private readonly string? _value;

    /// <summary>Wraps any value, known or not.</summary>
    public TargetMethod(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _value = value;
    }

    /// <summary>GET (API default).</summary>
    public static readonly TargetMethod Get = new("GET");

    /// <summary>POST.</summary>
    public static readonly TargetMethod Post = new("POST");

    /// <summary>PUT.</summary>
    public static readonly TargetMethod Put = new("PUT");

    /// <summary>PATCH.</summary>
    public static readonly TargetMethod Patch = new("PATCH");

    /// <summary>HEAD.</summary>
    public static readonly TargetMethod Head = new("HEAD");

    /// <summary>DELETE.</summary>
    public static readonly TargetMethod Delete = new("DELETE");

    /// <summary>The wire value (null for <c>default</c>).</summary>
    public string? Value => _value;

    /// <summary>Compares two values ordinally.</summary>
    public static bool operator ==(TargetMethod left, TargetMethod right) => left.Equals(right);

    /// <summary>Compares two values ordinally.</summary>
    public static bool operator !=(TargetMethod left, TargetMethod right) => !left.Equals(right);

    /// <summary>Converts a wire value.</summary>
    public static implicit operator TargetMethod(string value) => FromString(value);

    /// <inheritdoc/>
    public bool Equals(TargetMethod other) => string.Equals(_value, other._value, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is TargetMethod other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _value is null ? 0 : StringComparer.Ordinal.GetHashCode(_value);

    /// <summary>The wire value, or an empty string for <c>default</c>.</summary>
    public override string ToString() => _value ?? string.Empty;

    /// <summary>Returns the cached instance for a known value, otherwise wraps the value.</summary>
    public static TargetMethod FromString(string value) => value switch
    {
            "GET" => Get,
            "POST" => Post,
            "PUT" => Put,
            "PATCH" => Patch,
            "HEAD" => Head,
            "DELETE" => Delete,
            _ => new TargetMethod(value),
    };

    static bool IStringValue<TargetMethod>.TryGetKnown(ReadOnlySpan<byte> utf8, out TargetMethod value)
    {
        if (utf8.SequenceEqual("GET"u8)) { value = Get; return true; }
        if (utf8.SequenceEqual("POST"u8)) { value = Post; return true; }
        if (utf8.SequenceEqual("PUT"u8)) { value = Put; return true; }
        if (utf8.SequenceEqual("PATCH"u8)) { value = Patch; return true; }
        if (utf8.SequenceEqual("HEAD"u8)) { value = Head; return true; }
        if (utf8.SequenceEqual("DELETE"u8)) { value = Delete; return true; }
        value = default;
        return false;
    }
}

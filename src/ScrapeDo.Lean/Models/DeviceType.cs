// Same shape as every open string set in Models/: change them together.
using System.Text.Json.Serialization;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean;

/// <summary>Device profile used for a target. Compared by ordinal value; values the client does not know are kept as sent.</summary>
[JsonConverter(typeof(StringValueJsonConverter<DeviceType>))]
public readonly struct DeviceType : IEquatable<DeviceType>, IStringValue<DeviceType>
{
    private readonly string? _value;

    /// <summary>Wraps any value, known or not.</summary>
    public DeviceType(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _value = value;
    }

    /// <summary>Desktop browser profile (API default).</summary>
    public static readonly DeviceType Desktop = new("desktop");

    /// <summary>Mobile profile.</summary>
    public static readonly DeviceType Mobile = new("mobile");

    /// <summary>Tablet profile.</summary>
    public static readonly DeviceType Tablet = new("tablet");

    /// <summary>The wire value (null for <c>default</c>).</summary>
    public string? Value => _value;

    /// <summary>Compares two values ordinally.</summary>
    public static bool operator ==(DeviceType left, DeviceType right) => left.Equals(right);

    /// <summary>Compares two values ordinally.</summary>
    public static bool operator !=(DeviceType left, DeviceType right) => !left.Equals(right);

    /// <summary>Converts a wire value.</summary>
    public static implicit operator DeviceType(string value) => FromString(value);

    /// <inheritdoc/>
    public bool Equals(DeviceType other) => string.Equals(_value, other._value, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is DeviceType other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _value is null ? 0 : StringComparer.Ordinal.GetHashCode(_value);

    /// <summary>The wire value, or an empty string for <c>default</c>.</summary>
    public override string ToString() => _value ?? string.Empty;

    /// <summary>Returns the cached instance for a known value, otherwise wraps the value.</summary>
    public static DeviceType FromString(string value) => value switch
    {
            "desktop" => Desktop,
            "mobile" => Mobile,
            "tablet" => Tablet,
            _ => new DeviceType(value),
    };

    static bool IStringValue<DeviceType>.TryGetKnown(ReadOnlySpan<byte> utf8, out DeviceType value)
    {
        if (utf8.SequenceEqual("desktop"u8)) { value = Desktop; return true; }
        if (utf8.SequenceEqual("mobile"u8)) { value = Mobile; return true; }
        if (utf8.SequenceEqual("tablet"u8)) { value = Tablet; return true; }
        value = default;
        return false;
    }
}

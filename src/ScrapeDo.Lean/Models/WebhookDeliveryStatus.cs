// Same shape as every open string set in Models/: change them together.
using System.Text.Json.Serialization;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean;

/// <summary>State of a task's webhook delivery. Compared by ordinal value; values the client does not know are kept as sent.</summary>
[JsonConverter(typeof(StringValueJsonConverter<WebhookDeliveryStatus>))]
public readonly struct WebhookDeliveryStatus : IEquatable<WebhookDeliveryStatus>, IStringValue<WebhookDeliveryStatus>
{
    private readonly string? _value;

    /// <summary>Wraps any value, known or not.</summary>
    public WebhookDeliveryStatus(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _value = value;
    }

    /// <summary>Not yet delivered.</summary>
    public static readonly WebhookDeliveryStatus Pending = new("pending");

    /// <summary>Delivered (2xx).</summary>
    public static readonly WebhookDeliveryStatus Success = new("success");

    /// <summary>Given up after the retry ladder.</summary>
    public static readonly WebhookDeliveryStatus Failed = new("failed");

    /// <summary>The wire value (null for <c>default</c>).</summary>
    public string? Value => _value;

    /// <summary>Compares two values ordinally.</summary>
    public static bool operator ==(WebhookDeliveryStatus left, WebhookDeliveryStatus right) => left.Equals(right);

    /// <summary>Compares two values ordinally.</summary>
    public static bool operator !=(WebhookDeliveryStatus left, WebhookDeliveryStatus right) => !left.Equals(right);

    /// <summary>Converts a wire value.</summary>
    public static implicit operator WebhookDeliveryStatus(string value) => FromString(value);

    /// <inheritdoc/>
    public bool Equals(WebhookDeliveryStatus other) => string.Equals(_value, other._value, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is WebhookDeliveryStatus other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _value is null ? 0 : StringComparer.Ordinal.GetHashCode(_value);

    /// <summary>The wire value, or an empty string for <c>default</c>.</summary>
    public override string ToString() => _value ?? string.Empty;

    /// <summary>Returns the cached instance for a known value, otherwise wraps the value.</summary>
    public static WebhookDeliveryStatus FromString(string value) => value switch
    {
            "pending" => Pending,
            "success" => Success,
            "failed" => Failed,
            _ => new WebhookDeliveryStatus(value),
    };

    static bool IStringValue<WebhookDeliveryStatus>.TryGetKnown(ReadOnlySpan<byte> utf8, out WebhookDeliveryStatus value)
    {
        if (utf8.SequenceEqual("pending"u8)) { value = Pending; return true; }
        if (utf8.SequenceEqual("success"u8)) { value = Success; return true; }
        if (utf8.SequenceEqual("failed"u8)) { value = Failed; return true; }
        value = default;
        return false;
    }
}

// Same shape as every open string set in Models/: change them together.
using System.Text.Json.Serialization;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean;

/// <summary>
/// A job or task status. Unknown values are kept as sent and are not terminal. Compared ignoring ASCII case: the
/// reference says statuses are lowercase, but a server that sends <c>Success</c> must not make a run poll forever.
/// </summary>
[JsonConverter(typeof(StringValueJsonConverter<ScrapeDoStatus>))]
public readonly struct ScrapeDoStatus : IEquatable<ScrapeDoStatus>, IStringValue<ScrapeDoStatus>
{
    private readonly string? _value;

    /// <summary>Wraps any value, known or not.</summary>
    public ScrapeDoStatus(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _value = value;
    }

    /// <summary>Being created and prepared.</summary>
    public static readonly ScrapeDoStatus Queuing = new("queuing");

    /// <summary>Waiting for a free concurrency slot.</summary>
    public static readonly ScrapeDoStatus Queued = new("queued");

    /// <summary>Being processed.</summary>
    public static readonly ScrapeDoStatus Pending = new("pending");

    /// <summary>Being retried with another proxy.</summary>
    public static readonly ScrapeDoStatus Rotating = new("rotating");

    /// <summary>Completed successfully (terminal).</summary>
    public static readonly ScrapeDoStatus Success = new("success");

    /// <summary>Failed permanently (terminal).</summary>
    public static readonly ScrapeDoStatus Error = new("error");

    /// <summary>Canceled by the user (terminal).</summary>
    public static readonly ScrapeDoStatus Canceled = new("canceled");

    /// <summary>The wire value (null for <c>default</c>).</summary>
    public string? Value => _value;

    /// <summary>True for <c>success</c>, <c>error</c> and <c>canceled</c>: the status will not change again.</summary>
    public bool IsTerminal => this == Success || this == Error || this == Canceled;

    /// <summary>Compares two values ignoring case.</summary>
    public static bool operator ==(ScrapeDoStatus left, ScrapeDoStatus right) => left.Equals(right);

    /// <summary>Compares two values ignoring case.</summary>
    public static bool operator !=(ScrapeDoStatus left, ScrapeDoStatus right) => !left.Equals(right);

    /// <summary>Converts a wire value.</summary>
    public static implicit operator ScrapeDoStatus(string value) => FromString(value);

    /// <inheritdoc/>
    public bool Equals(ScrapeDoStatus other) => string.Equals(_value, other._value, StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ScrapeDoStatus other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _value is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(_value);

    /// <summary>The wire value, or an empty string for <c>default</c>.</summary>
    public override string ToString() => _value ?? string.Empty;

    /// <summary>Returns the cached instance for a known value, otherwise wraps the value as sent (it still compares equal to a known value in another casing).</summary>
    public static ScrapeDoStatus FromString(string value) => value switch
    {
            "queuing" => Queuing,
            "queued" => Queued,
            "pending" => Pending,
            "rotating" => Rotating,
            "success" => Success,
            "error" => Error,
            "canceled" => Canceled,
            _ => new ScrapeDoStatus(value),
    };


    static bool IStringValue<ScrapeDoStatus>.TryGetKnown(ReadOnlySpan<byte> utf8, out ScrapeDoStatus value)
    {
        if (utf8.SequenceEqual("queuing"u8)) { value = Queuing; return true; }
        if (utf8.SequenceEqual("queued"u8)) { value = Queued; return true; }
        if (utf8.SequenceEqual("pending"u8)) { value = Pending; return true; }
        if (utf8.SequenceEqual("rotating"u8)) { value = Rotating; return true; }
        if (utf8.SequenceEqual("success"u8)) { value = Success; return true; }
        if (utf8.SequenceEqual("error"u8)) { value = Error; return true; }
        if (utf8.SequenceEqual("canceled"u8)) { value = Canceled; return true; }
        value = default;
        return false;
    }
}

// Same shape as every open string set in Models/: change them together.
using System.Text.Json.Serialization;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean;

/// <summary>Order of a job listing. Compared by ordinal value; values the client does not know are kept as sent.</summary>
[JsonConverter(typeof(StringValueJsonConverter<JobSortOrder>))]
public readonly struct JobSortOrder : IEquatable<JobSortOrder>, IStringValue<JobSortOrder>
{
    private readonly string? _value;

    /// <summary>Wraps any value, known or not.</summary>
    public JobSortOrder(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _value = value;
    }

    /// <summary>Newest first (API default).</summary>
    public static readonly JobSortOrder StartTimeDescending = new("start_time_desc");

    /// <summary>Oldest first.</summary>
    public static readonly JobSortOrder StartTimeAscending = new("start_time_asc");

    /// <summary>The wire value (null for <c>default</c>).</summary>
    public string? Value => _value;

    /// <summary>Compares two values ordinally.</summary>
    public static bool operator ==(JobSortOrder left, JobSortOrder right) => left.Equals(right);

    /// <summary>Compares two values ordinally.</summary>
    public static bool operator !=(JobSortOrder left, JobSortOrder right) => !left.Equals(right);

    /// <summary>Converts a wire value.</summary>
    public static implicit operator JobSortOrder(string value) => FromString(value);

    /// <inheritdoc/>
    public bool Equals(JobSortOrder other) => string.Equals(_value, other._value, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is JobSortOrder other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _value is null ? 0 : StringComparer.Ordinal.GetHashCode(_value);

    /// <summary>The wire value, or an empty string for <c>default</c>.</summary>
    public override string ToString() => _value ?? string.Empty;

    /// <summary>Returns the cached instance for a known value, otherwise wraps the value.</summary>
    public static JobSortOrder FromString(string value) => value switch
    {
            "start_time_desc" => StartTimeDescending,
            "start_time_asc" => StartTimeAscending,
            _ => new JobSortOrder(value),
    };

    static bool IStringValue<JobSortOrder>.TryGetKnown(ReadOnlySpan<byte> utf8, out JobSortOrder value)
    {
        if (utf8.SequenceEqual("start_time_desc"u8)) { value = StartTimeDescending; return true; }
        if (utf8.SequenceEqual("start_time_asc"u8)) { value = StartTimeAscending; return true; }
        value = default;
        return false;
    }
}

using System.Globalization;
using System.Text;

namespace ScrapeDo.Lean;

/// <summary>Filters and paging of <c>GET /api/v1/jobs</c>. Unset values are left to the API's defaults.</summary>
public sealed class ListJobsQuery
{
    /// <summary>Largest page size the API accepts.</summary>
    public const int MaxPageSize = 100;

    /// <summary>1-based page (API default 1).</summary>
    public int? Page { get; init; }

    /// <summary>Jobs per page, 1 to 100 (API default 10).</summary>
    public int? PageSize { get; init; }

    /// <summary>Only jobs with this status.</summary>
    public ScrapeDoStatus? Status { get; init; }

    /// <summary>Only jobs that started at or after this instant.</summary>
    public DateTimeOffset? StartFrom { get; init; }

    /// <summary>Only jobs that started at or before this instant.</summary>
    public DateTimeOffset? StartTo { get; init; }

    /// <summary>Sort order (API default newest first).</summary>
    public JobSortOrder? Sort { get; init; }

    internal void Validate()
    {
        if (Page is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Page), Page, "ListJobsQuery.Page must be 1 or more.");
        }

        if (PageSize is < 1 or > MaxPageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(PageSize), PageSize, $"ListJobsQuery.PageSize must be between 1 and {MaxPageSize}.");
        }

        if (StartFrom is { } from && StartTo is { } to && from > to)
        {
            throw new ArgumentException("ListJobsQuery.StartFrom is after StartTo.", nameof(StartFrom));
        }
    }

    internal string ToQueryString(int? pageOverride)
    {
        var sb = new StringBuilder();
        Append(sb, "page", (pageOverride ?? Page)?.ToString(CultureInfo.InvariantCulture));
        Append(sb, "page_size", PageSize?.ToString(CultureInfo.InvariantCulture));
        Append(sb, "status", Status?.Value);
        Append(sb, "start_from", StartFrom is { } f ? Rfc3339(f) : null);
        Append(sb, "start_to", StartTo is { } t ? Rfc3339(t) : null);
        Append(sb, "sort", Sort?.Value);
        return sb.ToString();
    }

    internal static string Rfc3339(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static void Append(StringBuilder sb, string name, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        sb.Append(sb.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
    }
}

using System.Net;

namespace ScrapeDo.Lean.Internal.Http;

/// <summary>
/// A status as HTTP names it ("400 Bad Request"), for messages people read: the enum member's name
/// (<c>BadRequest</c>) is .NET's, and HTTP/2 answers carry no reason phrase to fall back on.
/// </summary>
internal static class HttpStatusText
{
    /// <summary>"404 Not Found" for a status with a well-known name (the ones this API and its proxies answer), else "HTTP 599".</summary>
    public static string Of(HttpStatusCode status) => NameOf(status) is { } name ? $"{(int)status} {name}" : $"HTTP {(int)status}";

    /// <summary>"Not Found" for 404, or null for a status without a well-known name.</summary>
    public static string? NameOf(HttpStatusCode status) => (int)status switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => null,
    };
}

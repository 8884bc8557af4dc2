using System.Net;

namespace ScrapeDo.Lean;

/// <summary>
/// Settings for a <see cref="ScrapeDoClient"/>. Frozen once the client is built: the client copies what it
/// needs at construction, so changing nothing here later can affect a running client.
/// </summary>
/// <remarks><see cref="ToString"/> never includes the token.</remarks>
public sealed class ScrapeDoClientOptions
{
    /// <summary>The default API host of the Async API.</summary>
    public static readonly Uri DefaultBaseAddress = new("https://q.scrape.do/");

    /// <summary>The API token sent as the <c>X-Token</c> header on every request. Required.</summary>
    public string? Token { get; init; }

    /// <summary>
    /// Base address of the API (default <c>https://q.scrape.do</c>). Plain <c>http://</c> is accepted only for
    /// loopback hosts, so a token is never sent in clear text over a network.
    /// </summary>
    public Uri BaseAddress { get; init; } = DefaultBaseAddress;

    /// <summary>
    /// Time allowed for one attempt, from sending the request to reading the last byte of the response body.
    /// Default 30 seconds. Exceeding it raises <see cref="ScrapeDoTimeoutException"/> (after retries, where allowed).
    /// </summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Retry behaviour for failed attempts.</summary>
    public ScrapeDoRetryOptions Retry { get; init; } = new();

    /// <summary>
    /// Maximum TCP connections the built-in handler opens to the API host (default 256). Ignored when
    /// <see cref="HttpClient"/> or <see cref="HttpMessageHandler"/> is supplied.
    /// </summary>
    public int MaxConnectionsPerServer { get; init; } = 256;

    /// <summary>
    /// Largest response body, in bytes after decompression, the client will read (default 256 MiB).
    /// A larger body fails with <see cref="ScrapeDoApiException"/> instead of exhausting memory.
    /// </summary>
    public long MaxResponseBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Clock used for timeouts and retry delays. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// An existing <see cref="System.Net.Http.HttpClient"/> to send requests with (for <c>IHttpClientFactory</c>
    /// users). The client does not dispose it. Its <c>BaseAddress</c> and default headers are not used; set its
    /// <c>Timeout</c> to infinite, since <see cref="AttemptTimeout"/> is enforced here.
    /// </summary>
    public HttpClient? HttpClient { get; init; }

    /// <summary>
    /// A handler to send requests through (tests, custom transports). The client does not dispose it.
    /// Ignored when <see cref="HttpClient"/> is set.
    /// </summary>
    public HttpMessageHandler? HttpMessageHandler { get; init; }

    /// <summary>HTTP version requested from the API (default HTTP/1.1, which fans out best over many connections).</summary>
    public Version HttpVersion { get; init; } = System.Net.HttpVersion.Version11;

    /// <summary>How <see cref="HttpVersion"/> is negotiated (default: that version or lower).</summary>
    public HttpVersionPolicy HttpVersionPolicy { get; init; } = HttpVersionPolicy.RequestVersionOrLower;

    /// <summary>Returns a description without the token.</summary>
    public override string ToString() =>
        $"ScrapeDoClientOptions {{ BaseAddress = {BaseAddress}, Token = {(string.IsNullOrEmpty(Token) ? "(none)" : "(set)")}, AttemptTimeout = {AttemptTimeout}, MaxConnectionsPerServer = {MaxConnectionsPerServer} }}";

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Token))
        {
            throw new ArgumentException("ScrapeDoClientOptions.Token is required: pass the API token (it is sent as the X-Token header).", nameof(Token));
        }

        foreach (char c in Token)
        {
            if (c < 0x21 || c > 0x7E)
            {
                throw new ArgumentException("ScrapeDoClientOptions.Token contains whitespace, control or non-ASCII characters; check how it was read.", nameof(Token));
            }
        }

        ArgumentNullException.ThrowIfNull(BaseAddress);
        ArgumentNullException.ThrowIfNull(Retry);
        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentNullException.ThrowIfNull(HttpVersion);
        ValidateBaseAddress(BaseAddress);

        if (AttemptTimeout <= TimeSpan.Zero && AttemptTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(AttemptTimeout), AttemptTimeout, "AttemptTimeout must be positive or Timeout.InfiniteTimeSpan.");
        }

        if (MaxConnectionsPerServer < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConnectionsPerServer), MaxConnectionsPerServer, "MaxConnectionsPerServer must be at least 1.");
        }

        if (MaxResponseBytes < 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxResponseBytes), MaxResponseBytes, "MaxResponseBytes must be at least 1024.");
        }

        Retry.Validate();
    }

    /// <summary>
    /// Throws when <paramref name="baseAddress"/> is not an absolute http(s) URI, or is plain http to a host
    /// that is not loopback.
    /// </summary>
    /// <param name="baseAddress">The address to check.</param>
    public static void ValidateBaseAddress(Uri baseAddress)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        if (!baseAddress.IsAbsoluteUri)
        {
            throw new ArgumentException($"Base address '{baseAddress}' must be absolute, e.g. https://q.scrape.do.", nameof(baseAddress));
        }

        if (baseAddress.Scheme == Uri.UriSchemeHttps)
        {
            return;
        }

        if (baseAddress.Scheme != Uri.UriSchemeHttp)
        {
            throw new ArgumentException($"Base address scheme '{baseAddress.Scheme}' is not supported; use https.", nameof(baseAddress));
        }

        if (!IsLoopback(baseAddress))
        {
            throw new ArgumentException($"Plain http:// is refused for non-loopback host '{baseAddress.Host}': the token would travel unencrypted. Use https.", nameof(baseAddress));
        }
    }

    internal static bool IsLoopback(Uri uri) =>
        uri.IsLoopback
        || (IPAddress.TryParse(uri.DnsSafeHost, out IPAddress? ip) && IPAddress.IsLoopback(ip));
}

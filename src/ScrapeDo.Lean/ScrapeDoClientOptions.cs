using ScrapeDo.Lean.Internal;
using System.Net;

namespace ScrapeDo.Lean;

/// <summary>
/// Settings for a <see cref="ScrapeDoClient"/>. The client reads them once, at construction; settable (not init-only)
/// so that <c>services.AddScrapeDo(o =&gt; ...)</c> and configuration binding can fill them.
/// </summary>
/// <remarks><see cref="ToString"/> never includes the token.</remarks>
public sealed class ScrapeDoClientOptions
{
    /// <summary>The default API host of the Async API.</summary>
    public static readonly Uri DefaultBaseAddress = new("https://q.scrape.do/");

    /// <summary>The API token sent as the <c>X-Token</c> header on every request. Required.</summary>
    public string? Token { get; set; }

    /// <summary>
    /// Base address of the API (default <c>https://q.scrape.do</c>). Plain <c>http://</c> is accepted only for
    /// loopback hosts, so a token is never sent in clear text over a network.
    /// </summary>
    public Uri BaseAddress { get; set; } = DefaultBaseAddress;

    /// <summary>
    /// Time allowed for one attempt, from sending the request to reading the last byte of the response body.
    /// Default 30 seconds. Exceeding it raises <see cref="ScrapeDoTimeoutException"/> (after retries, where allowed).
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Retry behaviour for failed attempts.</summary>
    public ScrapeDoRetryOptions Retry { get; set; } = new();

    /// <summary>
    /// Maximum TCP connections the built-in handler opens to the API host (default 256). Ignored when
    /// <see cref="HttpClient"/> or <see cref="HttpMessageHandler"/> is supplied.
    /// </summary>
    public int MaxConnectionsPerServer { get; set; } = 256;

    /// <summary>
    /// Largest response body, in bytes after decompression, the client will read (default 256 MiB).
    /// A larger body fails with <see cref="ScrapeDoApiException"/> instead of exhausting memory.
    /// </summary>
    public long MaxResponseBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Clock used for timeouts and retry delays. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// An existing <see cref="System.Net.Http.HttpClient"/> to send requests with (for <c>IHttpClientFactory</c>
    /// users). The client does not dispose it. Its <c>BaseAddress</c> and default headers are not used; set its
    /// <c>Timeout</c> to infinite, since <see cref="AttemptTimeout"/> is enforced here.
    /// </summary>
    public HttpClient? HttpClient { get; set; }

    /// <summary>
    /// A handler to send requests through (tests, custom transports). The client does not dispose it.
    /// Ignored when <see cref="HttpClient"/> is set.
    /// </summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>
    /// A server certificate to trust in addition to the system's: the built-in handler accepts a TLS connection whose
    /// certificate is exactly this one (compared by SHA-256 thumbprint) even if no trusted root vouches for it, for
    /// example the in-memory certificate of an HTTPS emulator in tests and benchmarks. Every other certificate is still
    /// validated as usual; validation is never turned off. Ignored when <see cref="HttpClient"/> or
    /// <see cref="HttpMessageHandler"/> is supplied.
    /// </summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? TrustedServerCertificate { get; set; }

    /// <summary>HTTP version requested from the API: 1.0, 1.1, 2.0 or 3.0 (default HTTP/1.1, which fans out best over
    /// many connections).</summary>
    public Version HttpVersion { get; set; } = System.Net.HttpVersion.Version11;

    /// <summary>How <see cref="HttpVersion"/> is negotiated (default: that version or lower).</summary>
    public HttpVersionPolicy HttpVersionPolicy { get; set; } = HttpVersionPolicy.RequestVersionOrLower;

    /// <summary>
    /// Where the client logs retries, rate limiting and ambiguous creates (null: nowhere). Nothing is logged per
    /// successful call at Information or above, and a disabled level costs no allocation. The token is never logged.
    /// </summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Returns a description without the token.</summary>
    public override string ToString() =>
        $"ScrapeDoClientOptions {{ BaseAddress = {BaseAddress}, Token = {(string.IsNullOrEmpty(Token) ? "(none)" : "(set)")}, AttemptTimeout = {AttemptTimeout}, MaxConnectionsPerServer = {MaxConnectionsPerServer} }}";

    /// <summary>
    /// Checks every setting, as the <see cref="ScrapeDoClient"/> constructor does (also used for start-up validation
    /// in a host).
    /// </summary>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it and never contains the token.</exception>
    public void Validate()
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
        // Major and minor only: "1.1.0" from a configuration file is HTTP/1.1 too.
        if ((HttpVersion.Major, HttpVersion.Minor) is not ((1, 0) or (1, 1) or (2, 0) or (3, 0)))
        {
            // HttpClient takes no other (it refuses each request, after the client was made), so say it here.
            throw new ArgumentOutOfRangeException(nameof(HttpVersion), HttpVersion, "HttpVersion must be 1.0, 1.1, 2.0 or 3.0.");
        }

        ValidateBaseAddress(BaseAddress);

        if (AttemptTimeout <= TimeSpan.Zero && AttemptTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(AttemptTimeout), AttemptTimeout, "AttemptTimeout must be positive or Timeout.InfiniteTimeSpan.");
        }

        TimerLimit.ThrowIfTooLong(AttemptTimeout, nameof(AttemptTimeout), "AttemptTimeout");

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
    /// Throws when <paramref name="baseAddress"/> is not an absolute http(s) URI, has a query or fragment, or is plain
    /// http to a host that is not loopback.
    /// </summary>
    /// <param name="baseAddress">The address to check.</param>
    public static void ValidateBaseAddress(Uri baseAddress)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        if (!baseAddress.IsAbsoluteUri)
        {
            throw new ArgumentException($"Base address '{baseAddress}' must be absolute, e.g. https://q.scrape.do.", nameof(baseAddress));
        }

        if (baseAddress.Query.Length > 0 || baseAddress.Fragment.Length > 0)
        {
            // The API's paths are appended to the base address: after a query or fragment every call would go to its
            // path alone. The query is left out of the message, as it may carry a secret (cut by hand: Uri.GetLeftPart
            // costs the AOT size probe about 450 bytes).
            string shown = baseAddress.AbsoluteUri;
            throw new ArgumentException($"Base address '{shown[..shown.AsSpan().IndexOfAny('?', '#')]}' must have no query or fragment (the API's paths are added to it), e.g. https://q.scrape.do.", nameof(baseAddress));
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

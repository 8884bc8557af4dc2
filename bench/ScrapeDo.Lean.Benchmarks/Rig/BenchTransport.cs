using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ScrapeDo.Lean.Benchmarks.Rig;

/// <summary>
/// The one transport every column gets: a <see cref="SocketsHttpHandler"/> without redirects or cookies, which over
/// HTTPS trusts exactly the server's in-memory certificate (pinned by SHA-256; validation is never turned off), and the
/// same HTTP version for every request.
/// </summary>
public static class BenchTransport
{
    /// <summary>Names used in parameters and reports: plain HTTP/1.1, HTTPS with HTTP/1.1, HTTPS with HTTP/2.</summary>
    public const string Http = "http", Https11 = "https-h1", Https2 = "https-h2";

    /// <summary>True when <paramref name="transport"/> is HTTPS.</summary>
    public static bool IsHttps(string transport) => transport != Http;

    /// <summary>The HTTP version of <paramref name="transport"/>.</summary>
    public static Version VersionOf(string transport) => transport == Https2 ? HttpVersion.Version20 : HttpVersion.Version11;

    /// <summary>A handler for a peer column or the floor.</summary>
    public static SocketsHttpHandler Handler(X509Certificate2? pinned)
    {
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        if (pinned is not null)
        {
            byte[] hash = pinned.GetCertHash(HashAlgorithmName.SHA256);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                errors == System.Net.Security.SslPolicyErrors.None
                || (certificate is not null && certificate.GetCertHash(HashAlgorithmName.SHA256).AsSpan().SequenceEqual(hash));
        }

        return handler;
    }

    /// <summary>
    /// An <see cref="HttpClient"/> for a peer (naive, Refit, Flurl): requests are sent at <paramref name="version"/>
    /// exactly, whoever built the request message, through a pass-through handler that only sets the version.
    /// </summary>
    public static HttpClient PeerClient(Uri baseAddress, X509Certificate2? pinned, Version version) =>
        new(new VersionHandler(version) { InnerHandler = Handler(pinned) })
        {
            BaseAddress = baseAddress,
            DefaultRequestVersion = version,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

    /// <summary>ScrapeDo.Lean over the same transport: the pin through its explicit option.</summary>
    public static ScrapeDoClient Lean(Uri baseAddress, string token, X509Certificate2? pinned, Version version) =>
        new(new ScrapeDoClientOptions
        {
            Token = token,
            BaseAddress = baseAddress,
            TrustedServerCertificate = pinned,
            HttpVersion = version,
            HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        });

    private sealed class VersionHandler(Version version) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Version = version;
            request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
            return base.SendAsync(request, cancellationToken);
        }
    }
}

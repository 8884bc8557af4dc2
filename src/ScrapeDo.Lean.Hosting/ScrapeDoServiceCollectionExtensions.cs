using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ScrapeDo.Lean;
using ScrapeDo.Lean.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers ScrapeDo.Lean in a service collection.</summary>
public static class ScrapeDoServiceCollectionExtensions
{
    /// <summary>Name of the <see cref="IHttpClientFactory"/> client the <see cref="ScrapeDoClient"/> sends through.</summary>
    public const string HttpClientName = "ScrapeDo.Lean";

    /// <summary>
    /// Registers a singleton <see cref="ScrapeDoClient"/> and <see cref="ScrapeDoRunner"/> configured from
    /// <paramref name="configuration"/> (typically <c>builder.Configuration.GetSection("ScrapeDo")</c>), keys:
    /// <c>Token</c>, <c>BaseAddress</c>, <c>AttemptTimeout</c>, <c>MaxConnectionsPerServer</c>, <c>MaxResponseBytes</c>,
    /// <c>HttpVersion</c>, <c>Retry:MaxAttempts</c>, <c>Retry:BaseDelay</c>, <c>Retry:MaxDelay</c>,
    /// <c>Retry:MaxRetryAfter</c>, <c>Retry:BudgetTokens</c>, <c>Retry:BudgetRefillPerSuccess</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section; bound without reflection (AOT-safe).</param>
    /// <returns>The builder of the named HTTP client, to add handlers (app-wide <c>ConfigureHttpClientDefaults</c>
    /// handlers are not used: see the remarks of the other overload).</returns>
    /// <remarks>
    /// Options are validated when the host starts, with the messages of <see cref="ScrapeDoClientOptions.Validate"/>, and
    /// so is a registered <see cref="RunOptions"/>, with the runner's.
    /// The token is read like any other secret (for example from the environment variable <c>ScrapeDo__Token</c>) and
    /// is never logged. Register a <see cref="RunOptions"/> singleton to configure the runner. A second call adds its
    /// settings on top of the earlier ones (the options pattern: the last value set wins) and registers nothing new: one
    /// container holds one account's client.
    /// </remarks>
    public static IHttpClientBuilder AddScrapeDo(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ScrapeDoClientOptions>().Configure(options => ScrapeDoConfigurationSection.Apply(configuration, options));
        return AddCore(services);
    }

    /// <summary>
    /// Registers a singleton <see cref="ScrapeDoClient"/> and <see cref="ScrapeDoRunner"/> configured in code.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options (at least <see cref="ScrapeDoClientOptions.Token"/>).</param>
    /// <returns>The builder of the named HTTP client, to add handlers.</returns>
    /// <remarks>
    /// Options are validated when the host starts. Unless <see cref="ScrapeDoClientOptions.HttpClient"/> or
    /// <see cref="ScrapeDoClientOptions.HttpMessageHandler"/> is set, requests go through the named client
    /// <see cref="HttpClientName"/>; unless <see cref="ScrapeDoClientOptions.LoggerFactory"/> is set, the container's
    /// <see cref="ILoggerFactory"/> is used. Register a <see cref="RunOptions"/> singleton to configure the runner. A
    /// second call adds its settings on top of the earlier ones and registers nothing new: one container holds one
    /// account's client. The named client leaves out the message handlers of app-wide defaults
    /// (<c>ConfigureHttpClientDefaults</c>, such as the standard resilience handler of .NET Aspire's service
    /// defaults): one that retries would send a job's create again, and each copy can be billed. Handlers added to
    /// the returned builder run as usual.
    /// </remarks>
    public static IHttpClientBuilder AddScrapeDo(this IServiceCollection services, Action<ScrapeDoClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<ScrapeDoClientOptions>().Configure(configure);
        return AddCore(services);
    }

    private static IHttpClientBuilder AddCore(IServiceCollection services)
    {
        services.AddOptions<ScrapeDoClientOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ScrapeDoClientOptions>, ScrapeDoOptionsValidator>());
        services.AddOptions<RunOptionsCheck>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RunOptionsCheck>, RunOptionsValidator>());
        services.TryAddSingleton(CreateClient);
        services.TryAddSingleton(sp => new ScrapeDoRunner(sp.GetRequiredService<ScrapeDoClient>(), sp.GetService<RunOptions>()));

        IHttpClientBuilder http = services.AddHttpClient(HttpClientName);
        if (services.Any(d => d.ServiceType == typeof(NamedClientConfigured)))
        {
            // Configured by the first call: configuring it again would put its primary handler and loggers back over
            // what the caller set on the builder that call returned, and clear the handlers added to it since.
            return http;
        }

        services.AddSingleton<NamedClientConfigured>();
        return http
            // App-wide defaults (ConfigureHttpClientDefaults, as .NET Aspire's service defaults add a standard
            // resilience handler) run before this: a handler there that retries would send a create again after a
            // 5xx or a timeout, and each copy can be a billed job. The client retries by its own rules (never a create
            // whose outcome is unknown); handlers added to the builder this returns still run.
            .ConfigureAdditionalHttpMessageHandlers(static (handlers, _) =>
            {
                foreach (DelegatingHandler handler in handlers)
                {
                    handler.Dispose();
                }

                handlers.Clear();
            })
            // The factory's default handlers log every request at Information; the client logs only what needs
            // attention (retries, 429s, ambiguous creates). AddDefaultLogger() on the returned builder restores them.
            .RemoveAllLoggers()
            // The client enforces its own per-attempt timeout; the factory's 100 s default would cut long reads.
            .ConfigureHttpClient(http => http.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => CreateHandler(sp.GetRequiredService<IOptions<ScrapeDoClientOptions>>().Value))
            // The handler recycles its own connections (PooledConnectionLifetime), so the factory need not rotate it:
            // rotation would drop warm connections of a client that polls continuously.
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
    }

    /// <summary>Marks a collection whose named client <see cref="HttpClientName"/> this type configured.</summary>
    private sealed class NamedClientConfigured;

    private static ScrapeDoClient CreateClient(IServiceProvider services)
    {
        // Validated here at the latest (ValidateOnStart covers hosts); a bad setting throws OptionsValidationException.
        ScrapeDoClientOptions options = services.GetRequiredService<IOptions<ScrapeDoClientOptions>>().Value;
        if (options.HttpClient is null && options.HttpMessageHandler is null)
        {
            options.HttpClient = services.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName);
        }

        options.LoggerFactory ??= services.GetService<ILoggerFactory>();
        return new ScrapeDoClient(options);
    }

    private static SocketsHttpHandler CreateHandler(ScrapeDoClientOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            // The same transport settings as the client's own handler (see ScrapeDoClientOptions.MaxConnectionsPerServer).
            MaxConnectionsPerServer = options.MaxConnectionsPerServer,
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AutomaticDecompression = DecompressionMethods.All,
            AllowAutoRedirect = false,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
        };

        if (options.TrustedServerCertificate is { } trusted)
        {
            // Pinned as the client's own handler pins it: the usual validation first, then that certificate only, byte
            // for byte. Without this the factory's handler would ignore the option and refuse the server.
            byte[] pinned = trusted.GetCertHash(HashAlgorithmName.SHA256);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                errors == SslPolicyErrors.None || (certificate is not null && certificate.GetCertHash(HashAlgorithmName.SHA256).AsSpan().SequenceEqual(pinned));
        }

        return handler;
    }
}

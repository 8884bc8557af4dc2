using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ScrapeDo.Lean.Emulator.Internal;

namespace ScrapeDo.Lean.Emulator;

/// <summary>
/// A local Scrape.do Async API on Kestrel, bound to 127.0.0.1 only. Start it with <see cref="StartAsync"/>, point a
/// client at <see cref="BaseAddress"/> with one of the configured tokens, and dispose it to stop.
/// </summary>
public sealed class ScrapeDoEmulator : IAsyncDisposable
{
    private const long MaxCreateBodyBytes = 32L * 1024 * 1024;

    private readonly WebApplication _app;
    private readonly Engine _engine;
    private readonly ApiEndpoints _endpoints;
    private readonly WebhookDispatcher _webhooks;
    private int _stopped;

    private ScrapeDoEmulator(EmulatorOptions options, WebApplication app, Engine engine, WebhookDispatcher webhooks)
    {
        Options = options;
        _app = app;
        _engine = engine;
        _webhooks = webhooks;
        _endpoints = new ApiEndpoints(options, engine, new FaultInjector(options.Faults, options.Seed));
    }

    /// <summary>The options the emulator runs with.</summary>
    public EmulatorOptions Options { get; }

    /// <summary>What the emulator has seen so far.</summary>
    public EmulatorCounters Counters => _engine.Counters;

    /// <summary>The address to give a client, e.g. <c>http://127.0.0.1:43123/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>
    /// The certificate an HTTPS emulator (<see cref="EmulatorOptions.Https"/>) serves, made in memory at start-up; pin it
    /// with <see cref="ScrapeDoClientOptions.TrustedServerCertificate"/>. Null for a plain HTTP emulator.
    /// </summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ServerCertificate { get; private init; }

    /// <summary>True when the job was created by the emulated foreign client (<see cref="FaultOptions.ForeignTwinShare"/>).</summary>
    public bool IsForeignJob(string jobId) => _engine.IsForeign(jobId);

    /// <summary>How many times a task's details were fetched (0 for an unknown task).</summary>
    public int TaskFetchCount(string jobId, string taskId) => _engine.TaskFetchCount(jobId, taskId);

    /// <summary>Most fetches of any one task so far.</summary>
    public int MaxFetchesOfAnyTask => _engine.MaxFetchesOfAnyTask;

    /// <summary>Starts the emulator and returns once it listens on 127.0.0.1.</summary>
    /// <param name="options">Settings; null for the defaults (one <c>pro</c> account, token <see cref="EmulatorOptions.DefaultToken"/>).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<ScrapeDoEmulator> StartAsync(EmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new EmulatorOptions();
        options.Validate();
        if (options.Https && !EmulatorFeatures.IsHttpsSupported)
        {
            throw new NotSupportedException($"This app was published with HTTPS serving trimmed out ({EmulatorFeatures.HttpsName}=false).");
        }

        System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = options.Https && EmulatorFeatures.IsHttpsSupported ? EphemeralCertificate.Create() : null;
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        // The host must not take over Ctrl-C or SIGTERM of the process that embeds it (tests, the CLI).
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = MaxCreateBodyBytes;
            k.Listen(IPAddress.Loopback, options.Port, listen =>
            {
                if (EmulatorFeatures.IsHttpsSupported && certificate is not null)
                {
                    listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(certificate);
                }
            });
        });

        WebApplication app = builder.Build();
        var counters = new EmulatorCounters();
        var webhooks = new WebhookDispatcher(options.Webhooks, options.TimeProvider, counters);
        var engine = new Engine(options, counters, webhooks);
        webhooks.Attach(engine.Content);
        var emulator = new ScrapeDoEmulator(options, app, engine, webhooks) { ServerCertificate = certificate };
        app.Run(emulator.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator.BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        return emulator;
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> is canceled, then stops.</summary>
    public async Task RunUntilCanceledAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Stops listening, ends webhook deliveries and releases the port.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        await _webhooks.DisposeAsync().ConfigureAwait(false);
        using (var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _app.StopAsync(stopTimeout.Token).ConfigureAwait(false);
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }

    // Kestrel's entry point; routing, the endpoints and fault injection live in Internal/ApiEndpoints.cs.
    private Task HandleAsync(HttpContext context) => _endpoints.HandleAsync(context);

    private sealed class EmbeddedHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.IntegrationTests;

internal static class Support
{
    public static CancellationToken Timeout(int seconds = 60) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    public static ScrapeDoClient Client(ScrapeDoEmulator emulator, string token = EmulatorOptions.DefaultToken, ScrapeDoRetryOptions? retry = null, TimeSpan? attemptTimeout = null) =>
        new(new ScrapeDoClientOptions
        {
            Token = token,
            BaseAddress = emulator.BaseAddress,
            Retry = retry ?? new ScrapeDoRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(50), MaxRetryAfter = TimeSpan.FromSeconds(5) },
            AttemptTimeout = attemptTimeout ?? TimeSpan.FromSeconds(20),
        });

    public static HttpClient Raw(ScrapeDoEmulator emulator, string? token = EmulatorOptions.DefaultToken)
    {
        var http = new HttpClient { BaseAddress = emulator.BaseAddress, Timeout = TimeSpan.FromSeconds(20) };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Add("X-Token", token);
        }

        return http;
    }

    public static string[] Urls(int count, string prefix = "https://site.example/page") => Enumerable.Range(0, count).Select(i => $"{prefix}/{i}").ToArray();

    /// <summary>Starts a slim ASP.NET Core app on 127.0.0.1 with a free port; dispose it to stop.</summary>
    public static async Task<LoopbackApp> StartLoopbackAppAsync(Action<WebApplication> configure)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        WebApplication app = builder.Build();
        configure(app);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new LoopbackApp(app, new Uri(address + "/"));
    }

    /// <summary>Polls until the job is terminal (bounded by the token).</summary>
    public static async Task<JobDetails> WaitForJobAsync(ScrapeDoClient client, string jobId, CancellationToken ct, int pollMs = 10)
    {
        while (true)
        {
            JobDetails job = await client.GetJobAsync(jobId, ct);
            if (job.Status.IsTerminal)
            {
                return job;
            }

            await Task.Delay(pollMs, ct);
        }
    }
}

/// <summary>A running loopback app and its address.</summary>
internal sealed record LoopbackApp(WebApplication App, Uri Address) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

/// <summary>A loopback webhook receiver whose answers a test scripts.</summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private LoopbackApp _app = null!;
    private int _attempts;

    public ConcurrentQueue<(string TaskId, string? Secret, string Body)> Deliveries { get; } = new();

    public Func<int, int> StatusForAttempt { get; set; } = _ => 200;

    public Uri Url => new(_app.Address, "hook");

    public int Attempts => Volatile.Read(ref _attempts);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        receiver._app = await Support.StartLoopbackAppAsync(app => app.Run(async ctx =>
        {
            int attempt = Interlocked.Increment(ref receiver._attempts);
            string body = await new StreamReader(ctx.Request.Body).ReadToEndAsync();
            int status = receiver.StatusForAttempt(attempt);
            if (status is >= 200 and < 300)
            {
                using var doc = System.Text.Json.JsonDocument.Parse(body);
                receiver.Deliveries.Enqueue((doc.RootElement.GetProperty("TaskID").GetString()!, ctx.Request.Headers["X-Hook-Secret"].ToString(), body));
            }

            ctx.Response.StatusCode = status;
        }));
        return receiver;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}

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

/// <summary>A loopback webhook receiver whose answers a test scripts.</summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebhookReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<(string TaskId, string? Secret, string Body)> Deliveries { get; } = new();

    public Func<int, int> StatusForAttempt { get; set; } = _ => 200;

    public Uri Url { get; private set; } = null!;

    private int _attempts;

    public int Attempts => Volatile.Read(ref _attempts);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.Run(async ctx =>
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
        });
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = new Uri(address + "/hook");
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

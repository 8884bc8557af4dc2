using System.Threading.Channels;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ScrapeDo.Lean;

namespace ScrapeDo.Lean.WorkerSample;

/// <summary>
/// Feeds URLs (from <c>Worker:UrlsFile</c>, and from anything else that writes to the channel) through the runner from
/// DI, logging one line per outcome. With <c>Worker:StopWhenDone</c> it stops the host after the file is done.
/// </summary>
internal sealed partial class ScrapeWorker(
    ScrapeDoRunner runner,
    Channel<string> urls,
    ScrapeDoWebhookReceiver receiver,
    HealthCheckService health,
    IConfiguration configuration,
    IHostApplicationLifetime lifetime,
    IServer server,
    ILogger<ScrapeWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        HealthReport before = await health.CheckHealthAsync(stoppingToken);
        LogHealth(logger, before.Status);

        string? file = configuration["Worker:UrlsFile"];
        bool stopWhenDone = configuration.GetValue("Worker:StopWhenDone", false);
        _ = Task.Run(() => FeedAsync(file, stopWhenDone, stoppingToken), stoppingToken);

        // The webhook URL must be reachable by Scrape.do; empty means polling only, "self" this app's own address (for
        // the emulator on loopback), known once the server listens.
        string? webhookUrl = configuration["Worker:WebhookUrl"];
        if (webhookUrl == "self")
        {
            var started = new TaskCompletionSource();
            using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            {
                await started.Task.WaitAsync(stoppingToken);
            }

            string address = server.Features.Get<IServerAddressesFeature>()!.Addresses.First();
            webhookUrl = address.TrimEnd('/') + "/scrapedo/webhook";
        }

        var template = string.IsNullOrEmpty(webhookUrl)
            ? new CreateJobRequest()
            : new CreateJobRequest { WebhookUrl = webhookUrl, WebhookHeaders = receiver.WebhookHeaders };

        int succeeded = 0, failed = 0;
        try
        {
            await foreach (TaskOutcome outcome in runner.RunAsync(urls.Reader.ReadAllAsync(stoppingToken), template, stoppingToken))
            {
                if (outcome.Status == OutcomeStatus.Success)
                {
                    succeeded++;
                }
                else
                {
                    failed++;
                }

                LogOutcome(logger, outcome.StatusText, outcome.Target, outcome.Details?.Content.Length ?? 0);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        LogDone(logger, succeeded, failed, WebhookStats.Accepted);
        if (stopWhenDone)
        {
            lifetime.StopApplication();
        }
    }

    private async Task FeedAsync(string? file, bool completeAfter, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(file) && File.Exists(file))
        {
            foreach (string line in await File.ReadAllLinesAsync(file, cancellationToken))
            {
                string url = line.Trim();
                if (url.Length > 0 && !url.StartsWith('#'))
                {
                    await urls.Writer.WriteAsync(url, cancellationToken);
                }
            }
        }

        if (completeAfter)
        {
            urls.Writer.TryComplete();
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Scrape.do health at start: {Status}")]
    private static partial void LogHealth(ILogger logger, HealthStatus status);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "{Status} {Target} ({Length} chars)")]
    private static partial void LogOutcome(ILogger logger, string status, string target, int length);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Worker done: {Succeeded} succeeded, {Failed} not, {Webhooks} webhook deliveries accepted")]
    private static partial void LogDone(ILogger logger, int succeeded, int failed, long webhooks);
}

/// <summary>Counts webhook deliveries the endpoint accepted (the sample's proof that webhooks arrive).</summary>
internal static class WebhookStats
{
    private static long s_accepted;

    public static long Accepted => Interlocked.Read(ref s_accepted);

    public static void Count() => Interlocked.Increment(ref s_accepted);
}

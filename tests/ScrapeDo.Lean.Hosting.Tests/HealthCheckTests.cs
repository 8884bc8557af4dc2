using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.Hosting.Tests;

public sealed class HealthCheckTests
{
    private static ServiceProvider Services(Uri baseAddress, string token, Action<ScrapeDoHealthCheckOptions>? configure = null, TimeProvider? clock = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddScrapeDo(o =>
        {
            o.Token = token;
            o.BaseAddress = baseAddress;
            o.AttemptTimeout = clock is null ? TimeSpan.FromSeconds(5) : Timeout.InfiniteTimeSpan;
            o.TimeProvider = clock ?? TimeProvider.System;
            o.Retry = new ScrapeDoRetryOptions { MaxAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(10) };
        });
        services.AddHealthChecks().AddScrapeDo(configure: configure);
        return services.BuildServiceProvider();
    }

    private static async Task<HealthReportEntry> CheckAsync(ServiceProvider provider)
    {
        HealthReport report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(TestTimeout.Token());
        return report.Entries["scrapedo"];
    }

    [Fact]
    public async Task The_check_has_a_timeout_of_its_own_and_refuses_thresholds_that_mean_nothing()
    {
        await using (ServiceProvider provider = Services(new Uri("https://api.example/"), "t"))
        {
            HealthCheckRegistration registration = Assert.Single(provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<HealthCheckServiceOptions>>().Value.Registrations);
            Assert.Equal(TimeSpan.FromSeconds(10), registration.Timeout);
        }

        var services = new ServiceCollection();
        Assert.Throws<ArgumentOutOfRangeException>(() => services.AddHealthChecks().AddScrapeDo(configure: o => o.NoFreeSlotTolerance = TimeSpan.FromSeconds(-5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => services.AddHealthChecks().AddScrapeDo(configure: o => o.MinimumCredits = -1));
        services.AddHealthChecks().AddScrapeDo(configure: o => o.NoFreeSlotTolerance = Timeout.InfiniteTimeSpan, timeout: Timeout.InfiniteTimeSpan);
    }

    [Fact]
    public async Task An_unreachable_api_is_reported_within_the_checks_timeout_not_after_the_clients_retries()
    {
        // A port that accepts connections and never answers: each attempt would wait the client's full attempt timeout.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var services = new ServiceCollection();
        services.AddScrapeDo(o =>
        {
            o.Token = "t";
            o.BaseAddress = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
            o.AttemptTimeout = TimeSpan.FromSeconds(30);
        });
        services.AddHealthChecks().AddScrapeDo(timeout: TimeSpan.FromMilliseconds(300));
        await using ServiceProvider provider = services.BuildServiceProvider();

        HealthReportEntry entry = await CheckAsync(provider);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.True(entry.Duration < TimeSpan.FromSeconds(10), $"took {entry.Duration}");
    }

    [Fact]
    public async Task Healthy_with_a_valid_token_and_free_slots()
    {
        await using ScrapeDoEmulator emulator = await ScrapeDoEmulator.StartAsync();
        await using ServiceProvider provider = Services(emulator.BaseAddress, EmulatorOptions.DefaultToken);

        HealthReportEntry entry = await CheckAsync(provider);

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal(1, emulator.Counters.AccountRequests);
        Assert.Equal(10_000_000L, entry.Data["availableCredits"]);
    }

    [Fact]
    public async Task Unhealthy_when_the_token_is_refused_and_the_token_is_not_in_the_report()
    {
        await using ScrapeDoEmulator emulator = await ScrapeDoEmulator.StartAsync();
        await using ServiceProvider provider = Services(emulator.BaseAddress, "wrong-token-value");

        HealthReportEntry entry = await CheckAsync(provider);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("refused the API token", entry.Description);
        Assert.Equal(1, emulator.Counters.Unauthorized);
        Assert.DoesNotContain("wrong-token-value", entry.Description + entry.Exception);
    }

    [Fact]
    public async Task Unhealthy_when_the_API_is_unreachable()
    {
        // A port that was just free on loopback: connections are refused.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        await using ServiceProvider provider = Services(new Uri($"http://127.0.0.1:{port}/"), "any-token");

        HealthReportEntry entry = await CheckAsync(provider);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.IsType<ScrapeDoTransportException>(entry.Exception);
    }

    [Fact]
    public async Task Degraded_when_credits_are_under_the_floor()
    {
        await using ScrapeDoEmulator emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Accounts = [new EmulatorAccount("t", Credits: 500)] });
        await using ServiceProvider provider = Services(emulator.BaseAddress, "t", o => o.MinimumCredits = 1000);

        HealthReportEntry entry = await CheckAsync(provider);

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("500 left", entry.Description);
    }

    [Fact]
    public async Task Degraded_only_once_no_slot_has_been_free_for_the_tolerance()
    {
        await using ScrapeDoEmulator emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Accounts = [new EmulatorAccount("t", ConcurrencyOverride: 1)],
            TaskLatencyMin = TimeSpan.FromSeconds(60),
            TaskLatencyMax = TimeSpan.FromSeconds(60),
        });
        // The check's clock is the client's: a fake one moves "5 minutes full" forward without waiting.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using ServiceProvider provider = Services(emulator.BaseAddress, "t", clock: clock);
        var client = provider.GetRequiredService<ScrapeDoClient>();
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(provider)).Status);

        // One long task takes the only slot.
        await client.CreateJobAsync(new CreateJobRequest { Targets = ["https://site.example/slow"] }, TestTimeout.Token());
        Assert.Equal(0, (await client.GetAccountAsync(TestTimeout.Token())).FreeConcurrency);

        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(provider)).Status);
        clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(provider)).Status);
        clock.Advance(TimeSpan.FromMinutes(1));
        HealthReportEntry entry = await CheckAsync(provider);

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("No async slot has been free for 300 s", entry.Description);
    }
}

using System.Net;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>
/// Issue 13, TLS and HTTP/2: the emulator serves HTTPS with a certificate made in memory, and the client trusts it only
/// through the explicit pin (<see cref="ScrapeDoClientOptions.TrustedServerCertificate"/>), never by turning
/// validation off.
/// </summary>
public sealed class HttpsTests
{
    private static ScrapeDoClient Client(ScrapeDoEmulator emulator, System.Security.Cryptography.X509Certificates.X509Certificate2? trusted, Version version) =>
        new(new ScrapeDoClientOptions
        {
            Token = EmulatorOptions.DefaultToken,
            BaseAddress = emulator.BaseAddress,
            TrustedServerCertificate = trusted,
            HttpVersion = version,
            // Exact: a call that succeeds proves the version was negotiated (ALPN), not downgraded.
            HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Retry = new ScrapeDoRetryOptions { MaxAttempts = 1 },
            AttemptTimeout = TimeSpan.FromSeconds(10),
        });

    [Theory]
    [InlineData(2)]
    [InlineData(1)]
    public async Task The_pinned_emulator_certificate_serves_https_over_http2_and_http11(int major)
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Https = true });
        Assert.Equal(Uri.UriSchemeHttps, emulator.BaseAddress.Scheme);
        Assert.NotNull(emulator.ServerCertificate);
        using var client = Client(emulator, emulator.ServerCertificate, major == 2 ? HttpVersion.Version20 : HttpVersion.Version11);

        CreateJobResponse created = await client.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/1", "https://a.example/2"] }, Support.Timeout());
        JobDetails job = await client.GetJobAsync(created.JobId, Support.Timeout());

        Assert.Equal(created.TaskIds, job.TaskIds);
        Assert.Equal(2, emulator.Counters.GetJobRequests + emulator.Counters.CreateRequests);
    }

    [Fact]
    public async Task Without_the_pin_the_self_signed_certificate_is_refused()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Https = true });
        using var client = Client(emulator, trusted: null, HttpVersion.Version20);

        var error = await Assert.ThrowsAsync<ScrapeDoTransportException>(() => client.GetAccountAsync(Support.Timeout()));

        Assert.Contains("SSL", error.InnerException?.ToString() ?? error.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, emulator.Counters.TotalRequests);
    }

    [Fact]
    public async Task Pinning_another_certificate_does_not_trust_this_one()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Https = true });
        await using var other = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Https = true });
        using var client = Client(emulator, other.ServerCertificate, HttpVersion.Version20);

        await Assert.ThrowsAsync<ScrapeDoTransportException>(() => client.GetAccountAsync(Support.Timeout()));
        Assert.Equal(0, emulator.Counters.TotalRequests);
    }

    [Fact]
    public async Task A_run_over_https_and_http2_delivers_every_target_once()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Https = true, ContentBytes = 500 });
        using var client = Client(emulator, emulator.ServerCertificate, HttpVersion.Version20);
        var runner = new ScrapeDoRunner(client, new RunOptions
        {
            MaxTargetsPerJob = 100,
            FirstPollDelay = TimeSpan.FromMilliseconds(10),
            MinPollInterval = TimeSpan.FromMilliseconds(10),
            MaxPollInterval = TimeSpan.FromMilliseconds(100),
        });

        var outcomes = new List<TaskOutcome>();
        await foreach (TaskOutcome outcome in runner.RunAsync(Support.Urls(300), cancellationToken: Support.Timeout(60)))
        {
            outcomes.Add(outcome);
        }

        Assert.Equal(300, outcomes.Select(o => o.InputIndex).Distinct().Count());
        Assert.All(outcomes, o => Assert.Equal(OutcomeStatus.Success, o.Status));
        Assert.All(outcomes, o => Assert.Equal(500, o.Details!.Content.Length));
    }
}

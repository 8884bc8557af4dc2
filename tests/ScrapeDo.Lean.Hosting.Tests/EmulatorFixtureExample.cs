// This file is the README's "Testing with the emulator" example, verbatim between the markers (ReadmeSnippetTests
// fails when the two differ). It is what a service team copies into its own test project.
namespace ScrapeDo.Lean.Hosting.Tests;

// <emulator-fixture>
using Microsoft.Extensions.DependencyInjection;
using ScrapeDo.Lean;
using ScrapeDo.Lean.Emulator;

/// <summary>One emulator on 127.0.0.1 for all tests of a class.</summary>
public sealed class ScrapeDoEmulatorFixture : IAsyncLifetime
{
    public ScrapeDoEmulator Emulator { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Seed = 7 });

    public async Task DisposeAsync() => await Emulator.DisposeAsync();

    /// <summary>The service's own registrations, pointed at the emulator.</summary>
    public ServiceProvider BuildServices()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddScrapeDo(options =>
        {
            options.Token = EmulatorOptions.DefaultToken;
            options.BaseAddress = Emulator.BaseAddress;
        });
        return services.BuildServiceProvider();
    }
}

public sealed class ScraperTests(ScrapeDoEmulatorFixture fixture) : IClassFixture<ScrapeDoEmulatorFixture>
{
    [Fact]
    public async Task Every_url_is_scraped_in_one_job_and_fetched_once()
    {
        await using ServiceProvider services = fixture.BuildServices();
        var runner = services.GetRequiredService<ScrapeDoRunner>();
        // The emulator is shared by the class: assert on differences of its counters.
        long creates = fixture.Emulator.Counters.Creates;
        long fetches = fixture.Emulator.Counters.TaskFetches;

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var outcomes = new List<TaskOutcome>();
        await foreach (TaskOutcome outcome in runner.RunAsync(["https://shop.example/a", "https://shop.example/b"], cancellationToken: timeout.Token))
        {
            outcomes.Add(outcome);
        }

        Assert.All(outcomes, outcome => Assert.Equal(OutcomeStatus.Success, outcome.Status));
        Assert.Equal(2, outcomes.Count);
        Assert.Equal(creates + 1, fixture.Emulator.Counters.Creates);
        Assert.Equal(fetches + 2, fixture.Emulator.Counters.TaskFetches);
    }

    [Fact]
    public async Task A_failing_target_is_reported_not_thrown()
    {
        await using ServiceProvider services = fixture.BuildServices();
        var runner = services.GetRequiredService<ScrapeDoRunner>();

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var outcomes = new List<TaskOutcome>();
        await foreach (TaskOutcome outcome in runner.RunAsync(["https://shop.example/broken?emulate=error"], cancellationToken: timeout.Token))
        {
            outcomes.Add(outcome);
        }

        Assert.Equal(OutcomeStatus.Error, Assert.Single(outcomes).Status);
    }
}
// </emulator-fixture>

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.Hosting.Tests;

public sealed class TelemetryTests
{
    [Fact]
    public async Task Spans_and_instruments_are_published_under_the_public_names()
    {
        await using ScrapeDoEmulator emulator = await ScrapeDoEmulator.StartAsync();
        var spans = new ConcurrentQueue<string>();
        var measurements = new ConcurrentDictionary<string, long>();
        var stopped = new ConcurrentQueue<Activity>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ScrapeDoTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                spans.Enqueue(activity.OperationName);
                stopped.Enqueue(activity);
            },
        };
        ActivitySource.AddActivityListener(activities);
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == ScrapeDoTelemetry.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, _, _) => measurements.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value));
        meters.Start();

        using var client = new ScrapeDoClient(new ScrapeDoClientOptions { Token = EmulatorOptions.DefaultToken, BaseAddress = emulator.BaseAddress });
        int outcomes = 0;
        var jobIds = new List<string>();
        // Other tests run in parallel and publish too: assert lower bounds only.
        await foreach (TaskOutcome outcome in new ScrapeDoRunner(client, new RunOptions { MaxTargetsPerJob = 1 }).RunAsync(["https://site.example/t1", "https://site.example/t2"], cancellationToken: TestTimeout.Token()))
        {
            outcomes++;
            jobIds.Add(outcome.JobId!);
        }

        Assert.Equal(2, outcomes);
        Assert.Contains("scrapedo.job", spans);
        Assert.Contains("scrapedo.task.fetch", spans);
        // One job per target: each fetch is a child of its own job's span (the fetch workers run it in its chunk's context).
        Assert.Equal(2, jobIds.Distinct().Count());
        foreach (string jobId in jobIds)
        {
            Activity job = Assert.Single(stopped, a => a.OperationName == "scrapedo.job" && (a.GetTagItem("scrapedo.job_id") as string) == jobId);
            Assert.Single(stopped, a => a.OperationName == "scrapedo.task.fetch" && a.ParentSpanId == job.SpanId);
        }
        Assert.True(measurements.GetValueOrDefault(ScrapeDoTelemetry.RequestsInstrument) >= client.RequestsSent);
        Assert.True(measurements.GetValueOrDefault(ScrapeDoTelemetry.JobsCreatedInstrument) >= 1);
        Assert.True(measurements.GetValueOrDefault(ScrapeDoTelemetry.OutcomesInstrument) >= 2);
        Assert.True(measurements.GetValueOrDefault(ScrapeDoTelemetry.ContentBytesInstrument) > 0);
    }
}

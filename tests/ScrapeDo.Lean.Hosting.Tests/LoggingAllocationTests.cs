using Microsoft.Extensions.Logging;
using ScrapeDo.Lean.Internal;

namespace ScrapeDo.Lean.Hosting.Tests;

/// <summary>
/// The allocation proof for logging: with the level off, a log call is an IsEnabled check and nothing else. Measured with
/// GC.GetAllocatedBytesForCurrentThread over many calls (a per-call allocation of even 1 byte would show up).
/// </summary>
public sealed class LoggingAllocationTests
{
    [Fact]
    public void Log_calls_allocate_nothing_when_their_level_is_off()
    {
        var capture = new CapturingLoggerProvider();
        using ILoggerFactory factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Error).AddProvider(capture));
        ILogger logger = factory.CreateLogger(Log.ClientCategory);
        var failure = new ScrapeDoTransportException("boom", ScrapeDoOperation.CreateJob, null, null, 1, null);
        DateTimeOffset at = DateTimeOffset.UnixEpoch;
        Exercise(logger, failure, at);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            Exercise(logger, failure, at);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Empty(capture.Entries);
        // The same logger does write at Error, so the calls above were filtered by level, not lost.
        Log.JournalFailed(logger, "delivered", failure);
        Assert.Equal(1104, Assert.Single(capture.Entries).EventId.Id);
    }

    private static void Exercise(ILogger logger, Exception failure, DateTimeOffset at)
    {
        Log.RetryScheduled(logger, ScrapeDoOperation.GetJob, 2, "HTTP 503", 250);
        Log.RateLimited(logger, ScrapeDoOperation.CreateJob, 1, 1000);
        Log.CreateOutcomeUnknown(logger, 3, failure);
        Log.ReconcileFound(logger, 4, "job-id", 1000);
        Log.ReconcileResubmitted(logger, 4, at);
        Log.ResumeSummary(logger, 10, 8, 1, 1, 7000);
        Log.WebhookSourceFailed(logger, failure);
        Log.RunCompleted(logger, 1, 2, 3);
    }
}

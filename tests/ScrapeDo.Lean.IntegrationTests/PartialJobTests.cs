using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>
/// <see cref="RunOptions.PartialJobDelay"/>: a paused input gets what it sent in a smaller job, and a journaled resume
/// that reads the same input without the pause cuts its jobs where the first process did.
/// </summary>
public class PartialJobTests
{
    /// <summary>Small jobs, fast polls, a 200 ms delay, no cancel on exit (a resume finds its jobs running).</summary>
    internal static RunOptions Options(string? journal = null, bool resume = false, TimeSpan? delay = null) => new()
    {
        MaxTargetsPerJob = 5,
        MaxJobsInFlight = 2,
        PartialJobDelay = delay ?? TimeSpan.FromMilliseconds(200),
        FirstPollDelay = TimeSpan.FromMilliseconds(20),
        MinPollInterval = TimeSpan.FromMilliseconds(20),
        MaxPollInterval = TimeSpan.FromMilliseconds(100),
        JournalPath = journal,
        Resume = resume,
        CancelJobsOnCancellation = false,
    };

    /// <summary>The first <paramref name="before"/> URLs, a pause the source holds until <paramref name="resume"/>, then the rest.</summary>
    private static async IAsyncEnumerable<string> Pausing(string[] urls, int before, Task resume)
    {
        for (int i = 0; i < urls.Length; i++)
        {
            if (i == before)
            {
                await resume;
            }

            yield return urls[i];
        }
    }

    [Fact]
    public async Task A_paused_input_gets_its_targets_in_a_smaller_job_after_the_delay()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions());
        using var client = Support.Client(emulator);
        string[] urls = Support.Urls(7, "https://pause.example/p");
        var rest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = new List<TaskOutcome>();
        await foreach (TaskOutcome outcome in new ScrapeDoRunner(client, Options()).RunAsync(Pausing(urls, 3, rest.Task), cancellationToken: Support.Timeout(30)))
        {
            seen.Add(outcome);
            // The first three arrive while the input still holds back the rest: they went out in a job of their own.
            if (seen.Count == 3)
            {
                Assert.Equal(1, emulator.Counters.Jobs);
                rest.SetResult();
            }
        }

        Assert.Equal(urls, seen.Select(o => o.Target).Order(StringComparer.Ordinal));
        Assert.All(seen, o => Assert.Equal(OutcomeStatus.Success, o.Status));
        Assert.Equal(2, emulator.Counters.Jobs);
    }

    [Fact]
    public async Task With_an_infinite_delay_a_paused_input_waits_for_a_full_job()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions());
        using var client = Support.Client(emulator);
        var rest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using IAsyncEnumerator<TaskOutcome> run = new ScrapeDoRunner(client, Options(delay: Timeout.InfiniteTimeSpan))
            .RunAsync(Pausing(Support.Urls(7, "https://full.example/p"), 3, rest.Task), cancellationToken: Support.Timeout(30)).GetAsyncEnumerator();
        ValueTask<bool> first = run.MoveNextAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(first.IsCompleted);
        Assert.Equal(0, emulator.Counters.Jobs);
        rest.SetResult();
        Assert.True(await first);
    }

    [Fact]
    public async Task A_resume_that_reads_the_input_without_the_pause_cuts_its_jobs_where_the_journal_says()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions());
        using var client = Support.Client(emulator);
        string[] urls = Support.Urls(7, "https://cut.example/p");
        string journal = Path.Combine(Path.GetTempPath(), $"scrapedo-cut-{Guid.NewGuid():N}.jsonl");
        var never = new TaskCompletionSource();
        try
        {
            var first = new List<TaskOutcome>();
            await foreach (TaskOutcome outcome in new ScrapeDoRunner(client, Options(journal)).RunAsync(Pausing(urls, 3, never.Task), cancellationToken: Support.Timeout(30)))
            {
                first.Add(outcome);
                if (first.Count == 3)
                {
                    // The process stops while its input is still paused: the journal holds a job of 3 targets.
                    break;
                }
            }

            Assert.Contains(File.ReadLines(journal), line => line.Contains("\"t\":\"cut\"", StringComparison.Ordinal));

            // The same input read again, all at once: without the journaled cut the first job would be cut at 5 and the
            // resume refused ("the input differs"), or a second job made for targets the first one holds.
            var second = new List<TaskOutcome>();
            await foreach (TaskOutcome outcome in new ScrapeDoRunner(client, Options(journal, resume: true)).RunAsync(urls, cancellationToken: Support.Timeout(30)))
            {
                second.Add(outcome);
            }

            Assert.Equal(urls, first.Concat(second).Select(o => o.Target).Order(StringComparer.Ordinal));
            Assert.Equal(2, emulator.Counters.Jobs);
        }
        finally
        {
            never.TrySetResult();
            File.Delete(journal);
        }
    }
}

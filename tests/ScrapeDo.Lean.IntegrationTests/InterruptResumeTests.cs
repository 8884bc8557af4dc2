using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>
/// Issue 11 #2: after an interrupt that canceled the run's own jobs, a resume submits again exactly the targets that
/// cancel stopped, never one that succeeded, and says how many; a job canceled by someone else stays canceled.
/// </summary>
public class InterruptResumeTests
{
    private const int Targets = 20;

    private static RunOptions Journaled(string journal, bool resume, bool cancelOnExit, IProgress<RunProgress>? progress = null) => new()
    {
        MaxTargetsPerJob = 10,
        MaxJobsInFlight = 2,
        JournalPath = journal,
        Resume = resume,
        CancelJobsOnCancellation = cancelOnExit,
        Progress = progress,
        FirstPollDelay = TimeSpan.FromMilliseconds(20),
        MinPollInterval = TimeSpan.FromMilliseconds(20),
        MaxPollInterval = TimeSpan.FromMilliseconds(100),
    };

    private static Task<ScrapeDoEmulator> StartAsync() => ScrapeDoEmulator.StartAsync(new EmulatorOptions
    {
        // Some tasks finish before the interrupt, most do not.
        TaskLatencyMin = TimeSpan.FromMilliseconds(50),
        TaskLatencyMax = TimeSpan.FromMilliseconds(2500),
    });

    /// <summary>Runs until <paramref name="interruptAfter"/> outcomes were taken, then cancels (Ctrl-C).</summary>
    private static async Task<List<TaskOutcome>> InterruptedRunAsync(ScrapeDoRunner runner, string[] urls, int interruptAfter)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var taken = new List<TaskOutcome>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (TaskOutcome o in runner.RunAsync(urls, cancellationToken: cts.Token))
            {
                taken.Add(o);
                if (taken.Count == interruptAfter)
                {
                    await cts.CancelAsync();
                }
            }
        });
        return taken;
    }

    private static async Task<List<TaskOutcome>> RunAsync(ScrapeDoRunner runner, string[] urls)
    {
        var all = new List<TaskOutcome>();
        await foreach (TaskOutcome o in runner.RunAsync(urls, cancellationToken: Support.Timeout()))
        {
            all.Add(o);
        }

        return all;
    }

    [Fact]
    public async Task Resume_after_our_own_cancel_resubmits_exactly_the_canceled_targets_and_counts_them()
    {
        await using var emulator = await StartAsync();
        using var client = Support.Client(emulator);
        string journal = Path.Combine(Path.GetTempPath(), $"scrapedo-int-{Guid.NewGuid():N}.jsonl");
        string[] urls = Support.Urls(Targets, "https://again.example/p");
        try
        {
            List<TaskOutcome> first = await InterruptedRunAsync(new ScrapeDoRunner(client, Journaled(journal, false, cancelOnExit: true)), urls, 2);
            Assert.Equal(2, emulator.Counters.Jobs);
            Assert.True(emulator.Counters.Cancels >= 1);
            string[] jobIds = [.. File.ReadAllLines(journal).Where(l => l.Contains("\"t\":\"cancel\"", StringComparison.Ordinal))
                .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("job").GetString()!)];
            Assert.NotEmpty(jobIds);
            int canceledTasks = 0;
            foreach (string id in jobIds)
            {
                JobDetails job = await client.GetJobAsync(id, Support.Timeout());
                canceledTasks += job.Tasks.Count(t => t.Status == ScrapeDoStatus.Canceled);
            }

            Assert.True(canceledTasks > 0, "the interrupt canceled no task; make the tasks slower");
            var progress = new LastProgress();
            List<TaskOutcome> second = await RunAsync(new ScrapeDoRunner(client, Journaled(journal, true, cancelOnExit: true, progress)), urls);

            // Every target exactly once across both runs, and none reported canceled: the resume really continued.
            Assert.Equal(Enumerable.Range(0, Targets).Select(i => (long)i), first.Concat(second).Select(o => o.InputIndex).Order());
            Assert.All(first.Concat(second), o => Assert.Equal(OutcomeStatus.Success, o.Status));
            // Only the canceled tasks were submitted again, never one that had succeeded.
            Assert.Equal(canceledTasks, progress.Last.Resubmitted);
            Assert.Equal(2 + jobIds.Count(id => client.GetJobAsync(id, Support.Timeout()).Result.Tasks.Any(t => t.Status == ScrapeDoStatus.Canceled)), emulator.Counters.Jobs);
        }
        finally
        {
            File.Delete(journal);
        }
    }

    [Fact]
    public async Task A_job_canceled_by_someone_else_stays_canceled_on_resume()
    {
        await using var emulator = await StartAsync();
        using var client = Support.Client(emulator);
        string journal = Path.Combine(Path.GetTempPath(), $"scrapedo-int-{Guid.NewGuid():N}.jsonl");
        string[] urls = Support.Urls(Targets, "https://user.example/p");
        try
        {
            List<TaskOutcome> first = await InterruptedRunAsync(new ScrapeDoRunner(client, Journaled(journal, false, cancelOnExit: false)), urls, 1);
            Assert.Equal(0, emulator.Counters.Cancels);
            // The user cancels the jobs by hand between the runs.
            foreach (JobDetails job in (await client.ListJobsAsync(null, Support.Timeout())).Jobs)
            {
                try
                {
                    await client.CancelJobAsync(job.JobId, Support.Timeout());
                }
                catch (ScrapeDoApiException)
                {
                    // Already finished.
                }
            }

            var progress = new LastProgress();
            List<TaskOutcome> second = await RunAsync(new ScrapeDoRunner(client, Journaled(journal, true, cancelOnExit: true, progress)), urls);

            Assert.Equal(Enumerable.Range(0, Targets).Select(i => (long)i), first.Concat(second).Select(o => o.InputIndex).Order());
            Assert.Contains(second, o => o.Status == OutcomeStatus.Canceled);
            Assert.Equal(0, progress.Last.Resubmitted);
            Assert.Equal(2, emulator.Counters.Jobs);
        }
        finally
        {
            File.Delete(journal);
        }
    }

    private sealed class LastProgress : IProgress<RunProgress>
    {
        public RunProgress Last { get; private set; }

        public void Report(RunProgress value) => Last = value;
    }
}

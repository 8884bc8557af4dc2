using ScrapeDo.Lean.Credits;
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
            // Counted once each: the resubmitted targets were already in the jobs the resume reattached.
            Assert.Equal(Targets, progress.Last.Submitted);
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

    /// <summary>The job ids a journal records as canceled by the run's own interrupt.</summary>
    private static HashSet<string> OwnCancels(string journal) =>
        [.. File.ReadAllLines(journal).Where(l => l.Contains("\"t\":\"cancel\"", StringComparison.Ordinal))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("job").GetString()!)];

    private static async Task<int> CanceledTasksAsync(ScrapeDoClient client, IEnumerable<string> jobIds)
    {
        int canceled = 0;
        foreach (string id in jobIds)
        {
            canceled += (await client.GetJobAsync(id, Support.Timeout())).Tasks.Count(t => t.Status == ScrapeDoStatus.Canceled);
        }

        return canceled;
    }

    /// <summary>A business account of 1,000 credits whose tasks take up to 2.5 s, so an interrupt cancels most of a job.</summary>
    private static Task<ScrapeDoEmulator> StartBudgetEmulatorAsync() => ScrapeDoEmulator.StartAsync(new EmulatorOptions
    {
        Accounts = [new EmulatorAccount(EmulatorOptions.DefaultToken, "business", 1_000)],
        TaskLatencyMin = TimeSpan.FromMilliseconds(50),
        TaskLatencyMax = TimeSpan.FromMilliseconds(2500),
    });

    /// <summary>Jobs of 10, two in flight (a third waits for a slot), journaled, fast polls, the given budget.</summary>
    private static RunOptions BudgetOptions(string journal, bool resume, long? maxCredits, CreditUsage credits, IProgress<RunProgress>? progress = null) => new()
    {
        MaxTargetsPerJob = 10,
        MaxJobsInFlight = 2,
        JournalPath = journal,
        Resume = resume,
        CancelJobsOnCancellation = true,
        MaxCredits = maxCredits,
        Credits = credits,
        Progress = progress,
        FirstPollDelay = TimeSpan.FromMilliseconds(20),
        MinPollInterval = TimeSpan.FromMilliseconds(20),
        MaxPollInterval = TimeSpan.FromMilliseconds(100),
    };

    [Fact]
    public async Task After_two_interrupts_the_estimate_and_the_budget_count_each_target_once_and_resubmitted_stays_within_the_targets()
    {
        // 30 plain targets at 1 credit, jobs of 10, two in flight: the third job waits for a slot, so each interrupt
        // leaves it unsent and the last resume must fit it in a budget of exactly 30.
        const int targets = 30;
        await using ScrapeDoEmulator emulator = await StartBudgetEmulatorAsync();
        using var client = Support.Client(emulator);
        string journal = Path.Combine(Path.GetTempPath(), $"scrapedo-int-{Guid.NewGuid():N}.jsonl");
        string[] urls = Support.Urls(targets, "https://twice.example/p");
        RunOptions Budgeted(bool resume, CreditUsage credits, IProgress<RunProgress>? progress = null) => BudgetOptions(journal, resume, targets, credits, progress);

        try
        {
            // 1: interrupted after two outcomes; jobs 0 and 1 are canceled with most of their tasks.
            List<TaskOutcome> first = await InterruptedRunAsync(new ScrapeDoRunner(client, Budgeted(false, new CreditUsage())), urls, 2);
            Assert.Equal(2, emulator.Counters.Jobs);
            HashSet<string> canceledFirst = OwnCancels(journal);
            Assert.True(await CanceledTasksAsync(client, canceledFirst) > 0, "the first interrupt canceled no task; make the tasks slower");

            // 2: resumed, and interrupted the moment both resubmissions exist, so they are canceled in turn.
            var taken = new List<TaskOutcome>();
            using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                Task interrupt = Task.Run(async () =>
                {
                    while (emulator.Counters.Jobs < 4 && !cts.IsCancellationRequested)
                    {
                        await Task.Delay(2);
                    }

                    await cts.CancelAsync();
                });
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
                {
                    await foreach (TaskOutcome o in new ScrapeDoRunner(client, Budgeted(true, new CreditUsage())).RunAsync(urls, cancellationToken: cts.Token))
                    {
                        taken.Add(o);
                    }
                });
                await interrupt;
            }

            Assert.Equal(4, emulator.Counters.Jobs);
            string[] canceledSecond = [.. OwnCancels(journal).Except(canceledFirst)];
            int resubmittable = await CanceledTasksAsync(client, canceledSecond);
            Assert.True(resubmittable > 0, "the second interrupt canceled no task; make the tasks slower");

            // 3: resumed to the end within the same budget of one credit per target.
            var credits = new CreditUsage();
            var progress = new LastProgress();
            List<TaskOutcome> third = await RunAsync(new ScrapeDoRunner(client, Budgeted(true, credits, progress)), urls);

            Assert.False(credits.Stopped, $"stopped at the budget: {credits.EstimatedSpent} estimated, {credits.TargetsRemaining} remaining");
            List<TaskOutcome> all = [.. first, .. taken, .. third];
            Assert.Equal(Enumerable.Range(0, targets).Select(i => (long)i), all.Select(o => o.InputIndex).Order());
            Assert.All(all, o => Assert.Equal(OutcomeStatus.Success, o.Status));
            // Canceled tasks are never charged: each target was paid once, and the estimate says so.
            Assert.Equal(targets, 1_000 - (await client.GetAccountAsync(Support.Timeout())).AvailableCredits);
            Assert.Equal(targets, credits.EstimatedSpent);
            // Only what the second interrupt canceled was put in a new job by this process.
            Assert.Equal(resubmittable, progress.Last.Resubmitted);
            Assert.True(progress.Last.Resubmitted <= targets);
        }
        finally
        {
            File.Delete(journal);
        }
    }

    [Fact]
    public async Task A_resume_with_a_budget_below_what_the_run_already_spent_resubmits_nothing_past_it()
    {
        // The first run has no budget; its resume has one smaller than the jobs it already created. The tasks the
        // interrupt canceled were never charged, but sending them again would be: that retry must meet the budget
        // like any create, not skip it.
        const int targets = 30;
        await using ScrapeDoEmulator emulator = await StartBudgetEmulatorAsync();
        using var client = Support.Client(emulator);
        string journal = Path.Combine(Path.GetTempPath(), $"scrapedo-int-{Guid.NewGuid():N}.jsonl");
        string[] urls = Support.Urls(targets, "https://lower.example/p");
        RunOptions Options(bool resume, long? maxCredits, CreditUsage credits) => BudgetOptions(journal, resume, maxCredits, credits);

        try
        {
            List<TaskOutcome> first = await InterruptedRunAsync(new ScrapeDoRunner(client, Options(false, null, new CreditUsage())), urls, 2);
            Assert.Equal(2, emulator.Counters.Jobs);
            Assert.True(await CanceledTasksAsync(client, OwnCancels(journal)) > 0, "the interrupt canceled no task; make the tasks slower");
            long chargedBefore = 1_000 - (await client.GetAccountAsync(Support.Timeout())).AvailableCredits;

            var credits = new CreditUsage();
            List<TaskOutcome> second = await RunAsync(new ScrapeDoRunner(client, Options(true, 5, credits)), urls);

            Assert.Equal(CreditStop.Budget, credits.StopReason);
            Assert.Equal(2, emulator.Counters.Jobs);
            Assert.Equal(chargedBefore, 1_000 - (await client.GetAccountAsync(Support.Timeout())).AvailableCredits);
            Assert.Equal(targets, first.Count + second.Count + credits.TargetsRemaining);
        }
        finally
        {
            File.Delete(journal);
        }
    }

    [Fact]
    public async Task A_resume_with_other_job_options_is_refused_before_any_job_and_an_old_journal_resumes_as_before()
    {
        await using var emulator = await StartAsync();
        using var client = Support.Client(emulator);
        string journal = Path.Combine(Path.GetTempPath(), $"scrapedo-int-{Guid.NewGuid():N}.jsonl");
        string[] urls = Support.Urls(Targets, "https://options.example/p");
        var other = new CreateJobRequest { Render = new RenderOptions(), GeoCode = "de" };
        try
        {
            List<TaskOutcome> first = await InterruptedRunAsync(new ScrapeDoRunner(client, Journaled(journal, false, cancelOnExit: false)), urls, 1);
            long jobs = emulator.Counters.Jobs;

            // The remaining targets would go out with Render and another country: one output, two settings.
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            {
                await foreach (TaskOutcome o in new ScrapeDoRunner(client, Journaled(journal, true, cancelOnExit: false)).RunAsync(urls, other, Support.Timeout()))
                {
                    Assert.Fail($"Unexpected outcome {o}");
                }
            });
            Assert.Contains("job options differ", refused.Message, StringComparison.Ordinal);
            Assert.Equal(jobs, emulator.Counters.Jobs);

            // A journal written before the fingerprint (its run line has none) resumes with
            // whatever options it is given, as it always did.
            string[] lines = await File.ReadAllLinesAsync(journal);
            Assert.Contains("\"o\":", lines[0], StringComparison.Ordinal);
            await File.WriteAllLinesAsync(journal, [$"{{\"t\":\"run\",\"n\":10}}", .. lines.Skip(1)]);
            var second = new List<TaskOutcome>();
            await foreach (TaskOutcome o in new ScrapeDoRunner(client, Journaled(journal, true, cancelOnExit: false)).RunAsync(urls, other, Support.Timeout()))
            {
                second.Add(o);
            }

            Assert.Equal(Enumerable.Range(0, Targets).Select(i => (long)i), first.Concat(second).Select(o => o.InputIndex).Order());
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

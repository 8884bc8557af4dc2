using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>The PartialJobDelay cut rule against resumes whose input pauses elsewhere, and cancels while a job lingers,
/// from a review (session 20): each failed before its fix (a resume that cut a journaled chunk where its own input paused
/// and journaled that cut; a source disposed mid-read; its late failure unobserved).</summary>
public class CutReviewTests
{
    private static RunOptions Options(string? journal = null, bool resume = false) => PartialJobTests.Options(journal, resume);

    /// <summary>The first <paramref name="before"/> URLs, then a pause of <paramref name="pause"/>, then the rest.</summary>
    private static async IAsyncEnumerable<string> Pausing(string[] urls, int before, TimeSpan pause)
    {
        for (int i = 0; i < urls.Length; i++)
        {
            if (i == before)
            {
                await Task.Delay(pause);
            }

            yield return urls[i];
        }
    }

    /// <summary>A first process that read its input without a pause and stopped after one outcome: its journal holds
    /// job 0 full (5 targets, no cut line).</summary>
    private static async Task<List<TaskOutcome>> FirstOutcomeThenStopAsync(ScrapeDoClient client, string journal, string[] urls)
    {
        var first = new List<TaskOutcome>();
        await foreach (TaskOutcome outcome in new ScrapeDoRunner(client, Options(journal)).RunAsync(urls, cancellationToken: Support.Timeout(30)))
        {
            first.Add(outcome);
            break;
        }

        return first;
    }

    /// <summary>
    /// The resume reads the same input, which now pauses after 3 targets. The chunker must not linger on a chunk the
    /// journal already holds: before the fix it cut job 0 at 3 and the resume was refused ("the input differs").
    /// </summary>
    [Fact]
    public async Task A_resume_whose_input_pauses_inside_a_journaled_full_job_still_delivers_every_target()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions());
        using var client = Support.Client(emulator);
        string[] urls = Support.Urls(10, "https://full-then-pause.example/p");
        string journal = Path.Combine(Path.GetTempPath(), $"scrapedo-h4-{Guid.NewGuid():N}.jsonl");
        try
        {
            List<TaskOutcome> first = await FirstOutcomeThenStopAsync(client, journal, urls);

            var second = new List<TaskOutcome>();
            await foreach (TaskOutcome outcome in new ScrapeDoRunner(client, Options(journal, resume: true)).RunAsync(Pausing(urls, 3, TimeSpan.FromSeconds(1)), cancellationToken: Support.Timeout(30)))
            {
                second.Add(outcome);
            }

            Assert.Equal(urls, first.Concat(second).Select(o => o.Target).Order(StringComparer.Ordinal));
        }
        finally
        {
            File.Delete(journal);
        }
    }

    /// <summary>
    /// Same start, then a paused resume, then one reading the input without a pause. Before the fix the paused resume
    /// was refused only after it had journaled a `cut` line for chunk 0 (written before IsAlreadyDone's check), so every
    /// later resume cut job 0 at 3 against a journaled job of 5 and the journal could never be resumed again.
    /// </summary>
    [Fact]
    public async Task A_refused_paused_resume_does_not_poison_the_journal_for_a_later_unpaused_resume()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions());
        using var client = Support.Client(emulator);
        string[] urls = Support.Urls(10, "https://poison.example/p");
        string journal = Path.Combine(Path.GetTempPath(), $"scrapedo-h4-{Guid.NewGuid():N}.jsonl");
        try
        {
            List<TaskOutcome> first = await FirstOutcomeThenStopAsync(client, journal, urls);

            var second = new List<TaskOutcome>();
            try
            {
                await foreach (TaskOutcome outcome in new ScrapeDoRunner(client, Options(journal, resume: true)).RunAsync(Pausing(urls, 3, TimeSpan.FromSeconds(1)), cancellationToken: Support.Timeout(30)))
                {
                    second.Add(outcome);
                }
            }
            catch (Exception)
            {
                // Whether the paused resume passes is the test above; this one is about what any refusal leaves behind.
            }

            var third = new List<TaskOutcome>();
            await foreach (TaskOutcome outcome in new ScrapeDoRunner(client, Options(journal, resume: true)).RunAsync(urls, cancellationToken: Support.Timeout(30)))
            {
                third.Add(outcome);
            }

            Assert.Equal(urls, first.Concat(second).Concat(third).Select(o => o.Target).Distinct().Order(StringComparer.Ordinal));
        }
        finally
        {
            File.Delete(journal);
        }
    }

    /// <summary>
    /// Before the fix: a resume given a truly different input that pauses: refusing it is right, but the refusal ("the input differs")
    /// thrown in ProduceAsync's loop body disposes the chunker while the source's next MoveNextAsync (started before the
    /// linger) is still pending; the chunker's finally then disposes the compiler-made Items iterator mid-MoveNext, which
    /// throws NotSupportedException over the real error.
    /// </summary>
    [Fact]
    public async Task A_resume_with_a_different_paused_input_is_refused_with_the_input_differs_message()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions());
        using var client = Support.Client(emulator);
        string[] urls = Support.Urls(10, "https://a.example/p");
        string[] other = Support.Urls(10, "https://b.example/p");
        string journal = Path.Combine(Path.GetTempPath(), $"scrapedo-h4-{Guid.NewGuid():N}.jsonl");
        try
        {
            await foreach (TaskOutcome outcome in new ScrapeDoRunner(client, Options(journal)).RunAsync(urls, cancellationToken: Support.Timeout(30)))
            {
                break;
            }

            var ex = await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await foreach (TaskOutcome outcome in new ScrapeDoRunner(client, Options(journal, resume: true)).RunAsync(Pausing(other, 3, TimeSpan.FromSeconds(1)), cancellationToken: Support.Timeout(30)))
                {
                }
            });
            Assert.IsType<InvalidOperationException>(ex);
        }
        finally
        {
            File.Delete(journal);
        }
    }

    /// <summary>Two URLs, then a wait on <paramref name="gate"/> that ignores the token (a pipe read, say).</summary>
    private static async IAsyncEnumerable<string> TwoThenGate(Task gate)
    {
        yield return "https://gate.example/0";
        yield return "https://gate.example/1";
        await gate;
        yield return "https://gate.example/2";
    }

    /// <summary>
    /// Before the fix: the run is canceled while the chunker lingers on a partly filled job. ArrivesWithinAsync throws, and the source's
    /// MoveNextAsync it had turned into a Task (pending.AsTask()) is left with nobody awaiting it; the chunker's finally
    /// cannot dispose the source either (NotSupportedException, the iterator is mid-MoveNext). When that source later fails
    /// (its pipe closed under it), the Task's exception is never observed: TaskScheduler.UnobservedTaskException, after the
    /// run has ended.
    /// </summary>
    [Fact]
    public async Task A_source_that_fails_after_a_cancel_during_the_linger_leaves_no_unobserved_task_exception()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions());
        using var client = Support.Client(emulator);
        string marker = $"source failed late {Guid.NewGuid():N}";
        var unobserved = new List<Exception>();
        EventHandler<UnobservedTaskExceptionEventArgs> handler = (_, e) =>
        {
            if (e.Exception.Flatten().InnerExceptions.Any(x => x.Message == marker))
            {
                lock (unobserved) { unobserved.Add(e.Exception); }
            }
        };
        TaskScheduler.UnobservedTaskException += handler;
        try
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await RunAndCancelAsync(client, gate.Task);
            gate.SetException(new IOException(marker));
            for (int i = 0; i < 20 && unobserved.Count == 0; i++)
            {
                await Task.Delay(50);
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            Assert.Empty(unobserved);
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= handler;
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static async Task RunAndCancelAsync(ScrapeDoClient client, Task gate)
    {
        var options = new RunOptions
        {
            MaxTargetsPerJob = 5,
            MaxJobsInFlight = 2,
            PartialJobDelay = TimeSpan.FromSeconds(30),
            CancelJobsOnCancellation = false,
        };
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        // Any exception: that it is NotSupportedException, not OperationCanceledException, is the test below.
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await foreach (TaskOutcome outcome in new ScrapeDoRunner(client, options).RunAsync(TwoThenGate(gate), cancellationToken: cts.Token))
            {
            }
        });
    }

    /// <summary>
    /// Before the fix: the worker sample's shape: a service feeds a channel, the runner reads it (honouring the token), and the host
    /// stops the run by canceling. Two URLs are in, the chunker lingers, the cancel comes: ArrivesWithinAsync throws,
    /// the chunker's finally disposes the Items iterator while its MoveNextAsync is still pending, the iterator throws
    /// NotSupportedException, ProduceAsync completes the delivery with it, and the consumer gets that instead of the
    /// OperationCanceledException naming its token.
    /// </summary>
    [Fact]
    public async Task Canceling_a_run_fed_by_a_channel_while_a_job_lingers_throws_OperationCanceledException()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions());
        using var client = Support.Client(emulator);
        var failures = new List<string>();
        for (int round = 0; round < 5; round++)
        {
            var channel = System.Threading.Channels.Channel.CreateUnbounded<string>();
            channel.Writer.TryWrite($"https://worker.example/{round}/0");
            channel.Writer.TryWrite($"https://worker.example/{round}/1");
            var options = new RunOptions
            {
                MaxTargetsPerJob = 5,
                MaxJobsInFlight = 2,
                PartialJobDelay = TimeSpan.FromSeconds(30),
                CancelJobsOnCancellation = false,
            };
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            try
            {
                await foreach (TaskOutcome outcome in new ScrapeDoRunner(client, options).RunAsync(channel.Reader.ReadAllAsync(), cancellationToken: cts.Token))
                {
                }

                failures.Add("ended without an exception");
            }
            catch (OperationCanceledException ex) when (ex.CancellationToken == cts.Token)
            {
            }
            catch (Exception ex)
            {
                failures.Add($"{ex.GetType().Name}: {ex.Message}");
            }
        }

        Assert.Empty(failures);
    }
}

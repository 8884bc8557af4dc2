using System.Diagnostics;
using System.Text;
using System.Text.Json;
using ScrapeDo.Lean.Cli;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>
/// Cancellation, timeouts and disposal, from a review (session 20): each test but the guard marked so failed before
/// its fix (an unwritten outcome journaled delivered, a run held by a source that ignores its token, the caller's token
/// missing from the exception).
/// </summary>
public class CancellationReviewTests
{
    private static RunOptions Journaled(string journal, bool resume, List<TaskOutcome> sink) => new()
    {
        MaxTargetsPerJob = 20,
        MaxJobsInFlight = 2,
        JournalPath = journal,
        Resume = resume,
        FirstPollDelay = TimeSpan.FromMilliseconds(20),
        MinPollInterval = TimeSpan.FromMilliseconds(20),
        MaxPollInterval = TimeSpan.FromMilliseconds(100),
        // The sink is a list: "flushing" it is a no-op that always succeeds.
        FlushSink = _ => ValueTask.CompletedTask,
    };

    private static HashSet<long> DoneIndices(string journal) =>
        [.. File.ReadAllLines(journal).Where(l => l.Contains("\"t\":\"done\"", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("x").GetInt64())];

    /// <summary>
    /// Before the fix: a consumer with a FlushSink that honours cancellation the usual way (ThrowIfCancellationRequested before it
    /// writes the outcome to its sink) gets one more buffered outcome after the cancel, throws before writing it, and
    /// the runner's exit path flushes the sink and journals that unwritten outcome <c>done</c>. A resume never
    /// delivers it: the target ends with no result at all.
    /// </summary>
    [Fact]
    public async Task Library_with_FlushSink_a_consumer_that_throws_on_cancel_before_writing_loses_the_handed_out_outcome_on_resume()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions());
        using var client = Support.Client(emulator);
        string journal = Path.Combine(Path.GetTempPath(), $"scrapedo-review-{Guid.NewGuid():N}.jsonl");
        string[] urls = Support.Urls(40, "https://flushsink.example/p");
        var sink = new List<TaskOutcome>();
        try
        {
            using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
                {
                    await foreach (TaskOutcome o in new ScrapeDoRunner(client, Journaled(journal, false, sink)).RunAsync(urls, cancellationToken: cts.Token))
                    {
                        cts.Token.ThrowIfCancellationRequested(); // the consumer stops before writing this one
                        sink.Add(o);
                        // Slow enough that the runner's buffer fills while the consumer works.
                        await Task.Delay(30);
                        if (sink.Count == 5)
                        {
                            await cts.CancelAsync();
                        }
                    }
                });
            }

            HashSet<long> done = DoneIndices(journal);
            var written = sink.Select(o => o.InputIndex).ToHashSet();
            // Journaled as delivered although the consumer never wrote it.
            Assert.Empty(done.Except(written));

            var second = new List<TaskOutcome>();
            await foreach (TaskOutcome o in new ScrapeDoRunner(client, Journaled(journal, true, second)).RunAsync(urls, cancellationToken: Support.Timeout()))
            {
                second.Add(o);
            }

            Assert.Equal(Enumerable.Range(0, urls.Length).Select(i => (long)i), sink.Concat(second).Select(o => o.InputIndex).Order());
        }
        finally
        {
            File.Delete(journal);
        }
    }

    /// <summary>
    /// Before the fix: the CLI's own consumer does exactly that with --content-dir: <c>RecordWriter.WriteWithContentFileAsync</c> calls
    /// ThrowIfCancellationRequested before writing the record, so a Ctrl-C while outcomes are buffered journals an
    /// outcome <c>done</c> that has no record. The resume then either refuses (the output holds fewer records than the
    /// journal's deliveries) or, with rejected lines in the output to pad the count, never writes that target.
    /// </summary>
    [Fact]
    public async Task Cli_ctrl_c_with_content_dir_then_resume_gives_every_target_exactly_one_record()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { ContentBytes = 32 * 1024 });
        // A race (the Ctrl-C must land while outcomes are buffered): a few rounds, each a complete interrupt + resume.
        for (int round = 0; round < 6; round++)
        {
            await InterruptThenResumeAsync(emulator, round);
        }
    }

    private static async Task InterruptThenResumeAsync(ScrapeDoEmulator emulator, int round)
    {
        const int Targets = 300;
        string dir = Directory.CreateTempSubdirectory("scrapedo-review-cli-").FullName;
        try
        {
            string input = Path.Combine(dir, "urls.txt");
            string prefix = $"https://ctrlc{round}.example/p";
            await File.WriteAllTextAsync(input, string.Join('\n', Support.Urls(Targets, prefix)) + "\n");
            string output = Path.Combine(dir, "out.jsonl");
            string journal = Path.Combine(dir, "run.journal");
            string contents = Path.Combine(dir, "contents");
            string[] args = ["run", input, "-o", output, "--journal", journal, "--content-dir", contents, "--targets-per-job", "100", "--quiet",
                "--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken];

            using var interrupt = new CancellationTokenSource();
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(interrupt.Token);
            bound.CancelAfter(TimeSpan.FromSeconds(60));
            // Ctrl-C once the consumer is busy writing content files (the runner's buffer is then full).
            Task watcher = Task.Run(async () =>
            {
                while (!interrupt.IsCancellationRequested)
                {
                    if (Directory.Exists(contents) && Directory.EnumerateFiles(contents).Count() >= 40)
                    {
                        await interrupt.CancelAsync();
                        return;
                    }

                    await Task.Delay(1);
                }
            });
            var err = new StringWriter();
            var console = new CliConsole(new StringWriter(), err, () => new MemoryStream(), () => new MemoryStream(), ErrorIsTerminal: false);
            int code = await CliApp.RunAsync(args, console, bound.Token);
            await watcher.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(code == ExitCodes.Interrupted, $"exit {code}: {err}");

            // Every input line the journal counts as delivered has a record in --output.
            HashSet<long> done = DoneIndices(journal);
            var recorded = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("target").GetString()).ToHashSet();
            string[] lost = [.. done.Select(i => $"{prefix}/{i}").Where(t => !recorded.Contains(t))];

            var err2 = new StringWriter();
            int resumed = await CliApp.RunAsync([.. args, "--resume"], new CliConsole(new StringWriter(), err2, () => new MemoryStream(), () => new MemoryStream(), ErrorIsTerminal: false), Support.Timeout(120));
            var targets = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("target").GetString()).ToList();
            Assert.True(lost.Length == 0 && resumed == ExitCodes.Success && targets.Count == Targets && targets.Distinct().Count() == Targets,
                $"round {round}: interrupted run journaled {done.Count} done but wrote {recorded.Count} records (done without a record: {string.Join(", ", lost)}); " +
                $"resume exit {resumed}: {err2.ToString().Trim()}; output now {targets.Count} records, {targets.Distinct().Count()} distinct of {Targets}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A target source waiting for more input that does not observe the token (a pipe's blocking read, a
    /// queue read without the token): after <paramref name="first"/> it waits for <paramref name="more"/>.</summary>
    private static async IAsyncEnumerable<string> WaitingSource(string[] first, Task more)
    {
        foreach (string url in first)
        {
            yield return url;
        }

        await more;
    }

    /// <summary>
    /// Before the fix: cancelling a run whose target source is waiting for more input: the run's disposal awaits the producer, which
    /// awaits the source, so the enumeration never ends (and the open server jobs are not canceled, since that comes
    /// after) until the source yields. RunPipeline.DisposeStagesAsync awaits _producer before anything else.
    /// </summary>
    [Fact]
    public async Task Cancelling_a_run_whose_target_source_waits_ends_promptly_and_cancels_the_server_jobs()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            TaskLatencyMin = TimeSpan.FromSeconds(3),
            TaskLatencyMax = TimeSpan.FromSeconds(4),
        });
        using var client = Support.Client(emulator);
        var more = new TaskCompletionSource();
        using var cts = new CancellationTokenSource();
        var options = new RunOptions
        {
            MaxTargetsPerJob = 5,
            MaxJobsInFlight = 4,
            FirstPollDelay = TimeSpan.FromMilliseconds(20),
            MinPollInterval = TimeSpan.FromMilliseconds(20),
            MaxPollInterval = TimeSpan.FromMilliseconds(100),
        };
        Task run = Task.Run(async () =>
        {
            await foreach (TaskOutcome _ in new ScrapeDoRunner(client, options).RunAsync(WaitingSource(Support.Urls(10, "https://waiting.example/p"), more.Task), cancellationToken: cts.Token))
            {
            }
        });
        try
        {
            var ct = Support.Timeout(30);
            while (emulator.Counters.JobPolls < 2)
            {
                await Task.Delay(10, ct);
            }

            await cts.CancelAsync();
            var clock = Stopwatch.StartNew();
            Task ended = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(10)));
            Assert.True(ended == run, $"the run had not ended {clock.Elapsed.TotalSeconds:0.0} s after the cancel; server cancels so far: {emulator.Counters.Cancels}");
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
            Assert.True(emulator.Counters.Cancels >= 1, "the running server jobs were canceled");
        }
        finally
        {
            more.TrySetResult();
            await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(20)));
        }
    }

    /// <summary>
    /// Before the fix: the CLI reading targets from a pipe whose writer is still there (<c>tail -f urls | scrapedo run -</c>, a queue
    /// feeding it): Ctrl-C does not stop the run until the 15 s hard exit, and the server jobs are left running
    /// (README: "Ctrl-C stops promptly, cancels the server jobs still running").
    /// </summary>
    [Fact]
    public async Task Cli_ctrl_c_while_stdin_is_an_open_idle_pipe_stops_promptly_and_cancels_the_server_jobs()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            TaskLatencyMin = TimeSpan.FromSeconds(5),
            TaskLatencyMax = TimeSpan.FromSeconds(6),
        });
        string dir = Directory.CreateTempSubdirectory("scrapedo-review-pipe-").FullName;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "scrapedo.dll"), "run", "-", "-o", Path.Combine(dir, "out.jsonl"), "--journal", Path.Combine(dir, "run.journal"),
            "--targets-per-job", "5", "--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken })
        {
            start.ArgumentList.Add(a);
        }

        using Process child = Process.Start(start)!;
        Task<string> stderr = child.StandardError.ReadToEndAsync();
        try
        {
            foreach (string url in Support.Urls(10, "https://pipe.example/p"))
            {
                await child.StandardInput.WriteLineAsync(url);
            }

            await child.StandardInput.FlushAsync();
            // The writer stays: the pipe is open and idle, as with tail -f or a producer that has nothing more yet.
            var ct = Support.Timeout(60);
            while (emulator.Counters.JobPolls < 2 && !child.HasExited)
            {
                await Task.Delay(10, ct);
            }

            Assert.False(child.HasExited, "the run ended before it could be interrupted");
            using (Process kill = Process.Start("kill", ["-INT", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            {
                await kill.WaitForExitAsync(ct);
            }

            var clock = Stopwatch.StartNew();
            await child.WaitForExitAsync(ct);
            string error = await stderr;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8) && emulator.Counters.Cancels >= 1,
                $"stopped after {clock.Elapsed.TotalSeconds:0.0} s with exit {child.ExitCode}, {emulator.Counters.Cancels} server cancels; stderr: {error.Trim()}");
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// (Passes: checked sound on 45dbcd2, kept as a guard.) Disposing the client while task fetches are in flight: a fetch whose next attempt meets the disposed handler could be
    /// classified "could not be sent ... Nothing reached the server" (ScrapeDoTransportException, RefusedBeforeSending),
    /// not transient, so it becomes a permanent <c>failed</c> outcome that is handed out and journaled <c>done</c>:
    /// a resume never fetches those targets' results, which exist on the server.
    /// </summary>
    [Fact]
    public async Task Disposing_the_client_mid_run_never_turns_a_target_into_a_delivered_failure()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            ContentBytes = 64 * 1024,
            // A share of answers is slow, so fetches are in flight when the client goes.
            Faults = new FaultOptions { SlowShare = 0.3, SlowDelay = TimeSpan.FromMilliseconds(300) },
        });
        var client = Support.Client(emulator);
        var options = new RunOptions
        {
            MaxTargetsPerJob = 100,
            FirstPollDelay = TimeSpan.FromMilliseconds(20),
            MinPollInterval = TimeSpan.FromMilliseconds(20),
            MaxPollInterval = TimeSpan.FromMilliseconds(100),
        };
        var outcomes = new List<TaskOutcome>();
        Exception? ended = null;
        try
        {
            await foreach (TaskOutcome o in new ScrapeDoRunner(client, options).RunAsync(Support.Urls(400, "https://disposed.example/p"), cancellationToken: Support.Timeout(30)))
            {
                outcomes.Add(o);
                if (outcomes.Count == 20)
                {
                    client.Dispose();
                }
            }
        }
        catch (Exception ex)
        {
            ended = ex;
        }

        TaskOutcome[] madeUp = [.. outcomes.Where(o => o.Status == OutcomeStatus.Failed)];
        Assert.True(madeUp.Length == 0,
            $"{madeUp.Length} of {outcomes.Count} delivered outcomes are failures caused by the disposal, e.g. '{madeUp.FirstOrDefault()?.Reason}'; the run ended with {ended?.GetType().Name}");
    }

    /// <summary>Before the fix: the OperationCanceledException a canceled run threw carried the run's internal linked token, not the
    /// caller's: <c>catch (OperationCanceledException ex) when (ex.CancellationToken == token)</c> does not match.</summary>
    [Fact]
    public async Task A_canceled_run_throws_an_OperationCanceledException_of_the_callers_token()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { TaskLatencyMin = TimeSpan.FromSeconds(2), TaskLatencyMax = TimeSpan.FromSeconds(3) });
        using var client = Support.Client(emulator);
        using var cts = new CancellationTokenSource();
        var run = Task.Run(async () =>
        {
            await foreach (TaskOutcome _ in new ScrapeDoRunner(client, new RunOptions { FirstPollDelay = TimeSpan.FromMilliseconds(20), MinPollInterval = TimeSpan.FromMilliseconds(20) })
                .RunAsync(Support.Urls(5, "https://token.example/p"), cancellationToken: cts.Token))
            {
            }
        });
        var ct = Support.Timeout(30);
        while (emulator.Counters.JobPolls < 1)
        {
            await Task.Delay(10, ct);
        }

        await cts.CancelAsync();
        OperationCanceledException ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.True(ex.CancellationToken == cts.Token, "the exception's CancellationToken is not the caller's token");
    }
}
